"""The runtime loop of one execution environment, run as `python -S -P bootstrap.py`.

Standard library only: it runs beside the function's code and layers, not the course's
virtual environment. Protocol with the executor (see lambda_executor.py), in frames of a
4-byte length and a `marshal`led dict (marshal is built in: json and traceback are imported
only when needed, so a small handler's cold start is close to `python -c "import handler"`):

- fd 0 carries requests: {"requestId", "payload" (the event), "deadlineMs", ...}.
- the original fd 1 carries replies: {"ready": True, "initError": None or the error} once, then
  {"ok": True, "payload": json text} or {"ok": False, "error": {"errorType", "errorMessage",
  "stackTrace"}}.
- the handler's own stdout and stderr both go to fd 2, which the executor copies to the
  function's log group; after each invocation a marker line closes that invocation's output.
  A multi-line log event (an error and its traceback, as the runtime logs it) travels as one
  line after EVENT_MARKER with its lines joined by EVENT_LINE_BREAK.

Errors are shaped and logged as the Python runtime interface client (awslambdaric, which the
Lambda Python runtime runs) shapes and logs them: `[ERROR] Type: message`, then
`Traceback (most recent call last):` and the frames, leading spaces as no-break spaces, the
runtime's own frames left out; an ImportError at init is Runtime.ImportModuleError with no
frames, a SyntaxError Runtime.UserCodeSyntaxError, any other exception keeps its own type.
"""

from __future__ import annotations

import importlib
import marshal
import os
import resource
import sys
import time

LOG_MARKER = "\x1eWORKSHOP-END-OF-INVOCATION "
EVENT_MARKER = "\x1eWORKSHOP-EVENT "
EVENT_LINE_BREAK = "\x1f"
ERROR_LOG_INDENT = "\u00a0"  # awslambdaric's ERROR_LOG_IDENT: a frame's leading spaces, as no-break spaces
UNHANDLED_AT_INIT = (  # awslambdaric's lambda_unhandled_exception_warning_message, logged before an init error
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in "
    "rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed "
    "runtimes, runtime updates can be triggered by a function change, or can be applied automatically. To "
    "determine if the runtime has been updated, check the runtime version in the INIT_START log entry. If this "
    "error correlates with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html")


class LambdaContext:
    """The context object as the Python runtime documents it."""

    def __init__(self, request: dict) -> None:
        self.aws_request_id = request["requestId"]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = request.get("invokedFunctionArn", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = request["deadlineMs"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def read_frame(stream) -> dict | None:
    header = stream.read(4)
    if len(header) < 4:
        return None
    return marshal.loads(stream.read(int.from_bytes(header, "big")))


def write_frame(stream, message: dict) -> None:
    data = marshal.dumps(message)
    stream.write(len(data).to_bytes(4, "big") + data)
    stream.flush()


def error_of(exc: BaseException, error_type: str | None = None, message: str | None = None,
             stack_trace: list[str] | None = None) -> dict:
    import traceback

    if stack_trace is None:
        frames = list(traceback.extract_tb(exc.__traceback__))
        while frames and "/bootstrap.py" in frames[0].filename:  # the runtime's own frames, as awslambdaric drops them
            frames = frames[1:]
        stack_trace = traceback.format_list(frames)
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": message if message is not None else str(exc),
        "stackTrace": stack_trace,
    }


def log_error(error: dict) -> None:
    """One log event, as awslambdaric's log_error writes it in the text log format."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append(ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    log_event(lines)


def log_event(lines: list[str]) -> None:
    sys.stdout.flush()
    sys.stderr.write(EVENT_MARKER + EVENT_LINE_BREAK.join(lines) + "\n")
    sys.stderr.flush()


def load_handler(spec: str):
    """Import `module.function` the way the Lambda runtime does, with its error types."""
    module_name, dot, function_name = spec.rpartition(".")
    if not dot:
        raise InitError({"errorType": "Runtime.MalformedHandlerName", "stackTrace": [],
                         "errorMessage": f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)"})
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise InitError({"errorType": "Runtime.BuiltInModuleConflict", "stackTrace": [],
                         "errorMessage": f"Cannot use built-in module {module_name} as a handler module"})
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise InitError(error_of(exc, "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace)) from exc
    except ImportError as exc:
        raise InitError(error_of(exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", [])) from exc
    except Exception as exc:  # an error raised by the module's own top-level code keeps its type and frames
        raise InitError(error_of(exc)) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise InitError({
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "stackTrace": [],
        })
    return handler


def peak_memory_kb() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would report the parent's.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class InitError(Exception):
    def __init__(self, error: dict) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def loopback_only(event: str, args: tuple) -> None:
    # The twin of safety.refuse_non_loopback_connections: this file cannot import the workshop package.
    if event == "socket.connect" and isinstance(args[1], tuple):
        host = str(args[1][0])
        if not (host == "localhost" or host == "::1" or host.startswith("127.")):
            raise ConnectionRefusedError(f"refused a connection to {host}: the local target stays on this machine")


def main() -> None:
    if os.environ.get("_WORKSHOP_LOOPBACK_ONLY"):
        sys.addaudithook(loopback_only)
    replies = os.fdopen(os.dup(1), "wb")
    requests = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)  # print() in the handler goes to the log stream, never into the protocol
    sys.stdout = os.fdopen(1, "w", buffering=1)

    init_error = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except InitError as exc:
        init_error = exc.error
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        print(f"[WARNING]\t{stamp}\t\t{UNHANDLED_AT_INIT}", file=sys.stderr)
        log_error(init_error)
    sys.stdout.flush()
    sys.stderr.write(LOG_MARKER + "init\n")
    sys.stderr.flush()
    write_frame(replies, {"ready": True, "initError": init_error})

    while (request := read_frame(requests)) is not None:
        reply = {"ok": False, "error": {**init_error, "requestId": ""}} if init_error else invoke(handler, request)
        reply["maxRssKb"] = peak_memory_kb()
        sys.stdout.flush()
        sys.stderr.write(LOG_MARKER + request["requestId"] + "\n")
        sys.stderr.flush()
        write_frame(replies, reply)


def invoke(handler, request: dict) -> dict:
    try:
        result = handler(request["payload"], LambdaContext(request))
    except Exception as exc:
        error = error_of(exc)
        log_error(error)
        return {"ok": False, "error": {**error, "requestId": request["requestId"]}}
    except SystemExit as exc:
        message = f"RequestId: {request['requestId']} Error: Runtime exited with error: exit status {exc.code}"
        return {"ok": False, "error": error_of(exc, "Runtime.ExitError", message)}
    import json  # the runtime serialises the result as JSON, as Lambda's does

    try:
        return {"ok": True, "payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:  # what json.dumps cannot take, the runtime cannot return
        return {"ok": False, "error": error_of(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}")}


if __name__ == "__main__":
    main()
