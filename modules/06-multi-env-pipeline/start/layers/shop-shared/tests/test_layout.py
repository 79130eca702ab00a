"""The layer's shape: what Lambda will find under /opt once the layer is attached."""

import ast
import re
import sys
from pathlib import Path

CONTENT = Path(__file__).resolve().parent.parent / "content"


def test_the_package_sits_in_the_python_folder():
    # Lambda adds /opt/python to sys.path: a package anywhere else is not importable.
    assert sorted(p.name for p in CONTENT.iterdir() if not p.name.startswith(".")) == ["python"]
    assert (CONTENT / "python" / "shop_shared" / "__init__.py").is_file()


def test_the_layer_is_versioned():
    import shop_shared

    assert re.fullmatch(r"\d+\.\d+\.\d+", shop_shared.__version__)


def test_the_layer_needs_only_the_runtime_and_powertools():
    # The runtime provides boto3; every function lists the Powertools layer beside this one.
    # Whatever else it imported would have to be packaged into the layer too.
    allowed = {"shop_shared", "boto3", "botocore", "aws_lambda_powertools", "__future__"}
    for path in (CONTENT / "python").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, f"{path.name} imports {name}"
