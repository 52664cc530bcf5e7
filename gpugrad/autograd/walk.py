"""Walks of the reverse graph: one for the tools that read it (func, memory, viz, the
planner), and the engine's counts of what leads where.

Example::

    >>> from gpugrad.autograd.walk import nodes_behind
    >>> w = gpugrad.ones(2, requires_grad=True)
    >>> [node.name() for node in nodes_behind([(w * 2).sum().grad_fn])]
    ['SumBackward', 'MulScalarBackward', 'AccumulateGrad']
"""

from __future__ import annotations

__all__ = ["nodes_behind", "count_dependencies", "nodes_leading_to", "restrict_dependencies"]


def nodes_behind(roots):
    """Each node reachable from ``roots`` (nodes; ``None`` is skipped), the roots included,
    once, depth first. Iterative, so chains of any length work; stop early by leaving the
    loop. A node's children are read after it is yielded."""
    stack = [node for node in roots if node is not None]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        yield node
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)


def count_dependencies(roots) -> dict:
    """For every node reachable from ``roots``, the number of edges that lead into it."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge[0]
            if child in deps:
                deps[child] += 1
            else:
                deps[child] = 1
                stack.append(child)
    return deps


def nodes_leading_to(deps: dict, roots, target_nodes: set) -> set:
    """Nodes from which a target can be reached: the only ones ``grad()`` has to visit."""
    remaining = dict(deps)
    order = []
    ready = [n for n in dict.fromkeys(roots) if remaining[n] == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next_edges:
            if edge is not None:
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    ready.append(edge[0])
    needed = set()
    for node in reversed(order):
        if node in target_nodes or any(e is not None and e[0] in needed for e in node.next_edges):
            needed.add(node)
    return needed


def restrict_dependencies(deps: dict, needed: set) -> dict:
    """``deps`` counted again over the ``needed`` nodes only."""
    restricted = {node: 0 for node in needed}
    for node in needed:
        for edge in node.next_edges:
            if edge is not None and edge[0] in needed:
                restricted[edge[0]] += 1
    return restricted
