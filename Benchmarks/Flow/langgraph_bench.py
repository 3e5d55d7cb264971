#!/usr/bin/env python3
"""LangGraph's side of the flow engine benchmark (../flow-run): the same graph shape as FlowBenchmark.

A StateGraph of NODES nodes in a line; the state is a TypedDict with an overwrite key (`last`) and an
append key (`log`, Annotated[list, operator.add]); node i returns {"last": "n<i>", "log": ["n<i>"]}.
Each run is timed on its own (time.perf_counter_ns); printed per node (no checkpointer) and per step
(MemorySaver, LangGraph's in-memory checkpointer, a new thread per run, deleted after it), p50, mean
and p99 over the runs. Lines starting with `metric ` are read by ../flow-run.

Usage: langgraph_bench.py [--nodes 100] [--runs 300] [--checkpoint-runs 150] [--warmup 20]
"""

import argparse
import importlib.metadata
import operator
import statistics
import sys
import time
from typing import Annotated, TypedDict

from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    last: str
    log: Annotated[list, operator.add]


def node(name):
    def run(state: State) -> dict:
        return {"last": name, "log": [name]}

    return run


def build(nodes, checkpointer=None):
    graph = StateGraph(State)
    names = [f"n{i}" for i in range(1, nodes + 1)]
    for name in names:
        graph.add_node(name, node(name))
    graph.add_edge(START, names[0])
    for a, b in zip(names, names[1:]):
        graph.add_edge(a, b)
    graph.add_edge(names[-1], END)
    return graph.compile(checkpointer=checkpointer)


def check(result, nodes):
    expected = [f"n{i}" for i in range(1, nodes + 1)]
    if result["last"] != expected[-1] or result["log"] != expected:
        sys.exit(f"langgraph_bench: a run ended with the wrong state: last={result['last']!r}")


def measure(app, nodes, runs, warmup, saver=None):
    # The recursion limit counts steps; a 100-node line needs more than the default 25.
    samples = []
    for index in range(warmup + runs):
        config = {"recursion_limit": nodes + 10}
        if saver is not None:
            config["configurable"] = {"thread_id": f"run-{index}"}
        start = time.perf_counter_ns()
        result = app.invoke({"last": "", "log": []}, config)
        elapsed_us = (time.perf_counter_ns() - start) / 1000
        check(result, nodes)
        if saver is not None:
            saver.delete_thread(f"run-{index}")
        if index >= warmup:
            samples.append(elapsed_us / nodes)
    return samples


def report(label, name, samples, unit):
    samples = sorted(samples)
    p50 = statistics.median(samples)
    mean = statistics.fmean(samples)
    p99 = samples[min(len(samples) - 1, -(-len(samples) * 99 // 100) - 1)]
    print(f"{label}: p50 {p50:.2f} {unit}, mean {mean:.2f}, p99 {p99:.2f} ({len(samples)} runs)")
    print(f"metric {name}_p50 {p50:.3f}")
    print(f"metric {name}_mean {mean:.3f}")
    print(f"metric {name}_p99 {p99:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--checkpoint-runs", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    version = importlib.metadata.version("langgraph")
    print(f"langgraph {version}, Python {sys.version.split()[0]}: {args.nodes}-node linear StateGraph")
    print(f"metric langgraph_version {version}")
    bare = build(args.nodes)
    report("no checkpointer, us per node", "langgraph_nocp_node_us",
           measure(bare, args.nodes, args.runs, args.warmup), "us")
    saver = MemorySaver()
    saved = build(args.nodes, saver)
    report("MemorySaver, us per step", "langgraph_memcp_step_us",
           measure(saved, args.nodes, args.checkpoint_runs, args.warmup, saver), "us")


if __name__ == "__main__":
    main()
