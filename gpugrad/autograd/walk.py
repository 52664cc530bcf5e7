"""One walk of the reverse graph, for the tools that read it (func, memory, viz, the planner).

Example::

    >>> from gpugrad.autograd.walk import nodes_behind
    >>> w = gpugrad.ones(2, requires_grad=True)
    >>> [node.name() for node in nodes_behind([(w * 2).sum().grad_fn])]
    ['SumBackward', 'MulScalarBackward', 'AccumulateGrad']
"""

from __future__ import annotations

__all__ = ["nodes_behind"]


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
