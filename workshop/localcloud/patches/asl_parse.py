"""A state machine definition is parsed by ANTLR once, not at its creation and again at every execution.

moto 5.2.5 runs its pure-Python ANTLR parser over the whole definition when a state machine is
created (to validate it) and again when each execution starts: across the test suite, 45 s of the
clouds' CPU. The syntax tree of a definition string is kept (the last few hundred) and each call
still builds fresh evaluation components from it, so no execution shares state with another.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

if TYPE_CHECKING:
    from antlr4 import ParserRuleContext
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    from ..server import LocalCloud

TREES_KEPT = 256
_trees: OrderedDict[str, ParserRuleContext] = OrderedDict()
_lock = threading.Lock()


def apply(cloud: LocalCloud) -> None:
    original = AmazonStateLanguageParser.parse
    if getattr(original, "_keeps_trees", False):
        return

    def parse(definition: str) -> tuple[EvalComponent, ParserRuleContext]:
        with _lock:
            tree = _trees.get(definition)
            if tree is not None:
                _trees.move_to_end(definition)
        if tree is None:
            program, tree = original(definition)  # raises on a syntax error: nothing is kept
            with _lock:
                _trees[definition] = tree
                while len(_trees) > TREES_KEPT:
                    _trees.popitem(last=False)
            return program, tree
        return Preprocessor().visit(tree), tree

    parse._keeps_trees = True
    AmazonStateLanguageParser.parse = staticmethod(parse)
