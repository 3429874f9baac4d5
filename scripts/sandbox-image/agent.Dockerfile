# The exec agent on top of the base rootfs (build-rootfs.sh), a separate step so changing the agent does not rerun
# debootstrap. Built by scripts/setup/sandbox-image.sh with this folder as the context; BASE is the base image's tag.
# The module is compiled here (the root filesystem is read-only at run time): its start-up then skips the compile.
ARG BASE
FROM ${BASE}
COPY sandbox-agent sandbox_agent.py sandbox_process.py /opt/agents/
USER root
RUN python3 -IS -m py_compile /opt/agents/sandbox_agent.py /opt/agents/sandbox_process.py
USER agent
LABEL io.temporal-agents.sandbox-agent="1"
