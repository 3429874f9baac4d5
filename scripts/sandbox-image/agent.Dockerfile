# The exec agent on top of the base rootfs (build-rootfs.sh), a separate step so changing the agent does not rerun
# debootstrap. Built by scripts/setup/sandbox-image.sh with this folder as the context; BASE is the base image's tag.
ARG BASE
FROM ${BASE}
COPY sandbox-agent /opt/agents/sandbox-agent
LABEL io.temporal-agents.sandbox-agent="1"
