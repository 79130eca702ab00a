"""Advice derived from what a checkpoint saw, never from what it expected to see.

A route that answers 5xx is judged by the error its function logged: an import that fails
points at the function's Handler setting and the imports of the file it names; an exception
raised by the code points at that code; and every message names the function by its logical
id and its template by its path in the learner's tree. See the Lambda Python runtime's error
types: https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checks.support import api_for_route, function_arn_of, last_error, log_lines

IMPORT_FAILURES = ("Runtime.ImportModuleError", "Runtime.HandlerNotFound", "Runtime.UserCodeSyntaxError")


def template_label(stack: str, templates: dict[str, Path], workspace: Path) -> str:
    """A stack named by its template's path in the learner's tree (the stack name if unknown)."""
    template = templates.get(stack)
    if template is None:
        return stack
    try:
        return template.relative_to(workspace).as_posix()
    except ValueError:
        return template.as_posix()


@dataclass
class FunctionFault:
    function: str   # logical id in its template
    template: str   # the template's path in the tree
    handler: str    # its Handler setting
    error: str      # the last error it logged ("" when it logged none)

    @property
    def handler_file(self) -> str:
        return self.handler.rpartition(".")[0].replace(".", "/") + ".py"

    def said(self) -> str:
        return f" ({self.function} in {self.template} logged: {self.error[:200]})" if self.error else ""

    def fix(self, otherwise: str, status: int | None = None) -> str:
        """What to change, from the logged error; `otherwise` when the log says nothing.

        A 502 with nothing logged: the function ran, but API Gateway could not use what it
        returned (a proxy integration needs statusCode, headers and a string body).
        """
        if not self.error and status == 502:
            return (f"{self.function} ran without an error but API Gateway could not use its answer: return "
                    f'{{"statusCode": ..., "headers": {{...}}, "body": "<a JSON string>"}} from {self.handler_file} '
                    f"({self.template})")
        if any(kind in self.error for kind in IMPORT_FAILURES):
            return (f"{self.function} cannot load its handler: check its Handler setting ({self.handler}) in "
                    f"{self.template} and the imports of {self.handler_file}")
        if "Task timed out" in self.error:
            return f"{self.function} in {self.template} ran out of time: find what {self.handler_file} waits on"
        if self.error:
            return (f"fix what {self.function} raises when it runs {self.handler_file} or a module it imports "
                    f"(its code and configuration are in {self.template})")
        return otherwise


def fault_behind(aws, stacks: dict, templates: dict[str, Path], workspace: Path,
                 method: str, path: str) -> FunctionFault | None:
    """The function that serves METHOD path, with its template and the last error it logged."""
    found = api_for_route(aws("apigateway"), stacks, method, path)
    arn = function_arn_of(found[1].get("methodIntegration", {})) if found else None
    if not arn or not found:
        return None
    name = arn.split(":")[6]
    stack, logical = next(((s, r["logicalId"]) for s, info in sorted(stacks.items()) for r in info.resources
                           if r["type"] == "AWS::Lambda::Function" and r["physicalId"] == name), (found[0].stack, name))
    try:
        handler = aws("lambda").get_function_configuration(FunctionName=name).get("Handler", "")
    except Exception:  # noqa: BLE001 - the advice is a courtesy; a function gone meanwhile gives none
        handler = ""
    return FunctionFault(logical, template_label(stack, templates, workspace), handler,
                         last_error(log_lines(aws("logs"), name)))

