"""The peer's agent for the side-by-side benchmark (bench/scenarios/peer-langgraph.bench.ts): the scripted loop our
platform runs, as a LangGraph graph. A model node calls the fake model server over its OpenAI-compatible endpoint with
langchain-openai's ChatOpenAI (streaming); a tool node runs the model's `bash` calls. Per run, `configurable` says
which scripted model to ask (`model`), how the tool runs (`tool_mode`: `subprocess` — `bash -c` on the host, no
isolation; `docker` — `docker exec` into an already running container of our sandbox image, `container`).
The fake model's address comes from PEER_MODEL_BASE_URL (read once, at import)."""

import asyncio
import os
from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition

MODEL_BASE_URL = os.environ["PEER_MODEL_BASE_URL"]


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@tool
async def bash(command: str, config: RunnableConfig) -> str:
    """Run a shell command and return its output."""
    configurable = config.get("configurable", {})
    if configurable.get("tool_mode") == "docker":
        argv = ["docker", "exec", configurable["container"], "bash", "-c", command]
    else:
        argv = ["bash", "-c", command]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return f"{output.decode(errors='replace')}exit code {process.returncode}"


# One client (and its connection pool) for every run; the scripted model is chosen per call.
model = ChatOpenAI(model="peer", base_url=MODEL_BASE_URL, api_key="fake", streaming=True, max_retries=0)
model_with_tools = model.bind_tools([bash])


async def call_model(state: State, config: RunnableConfig) -> dict:
    name = config.get("configurable", {})["model"]
    response = await model_with_tools.ainvoke(state["messages"], config, model=name)
    return {"messages": [response]}


builder = StateGraph(State)
builder.add_node("model", call_model)
builder.add_node("tools", ToolNode([bash]))
builder.add_edge(START, "model")
builder.add_conditional_edges("model", tools_condition, {"tools": "tools", END: END})
builder.add_edge("tools", "model")
graph = builder.compile()
