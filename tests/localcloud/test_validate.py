"""The local deploy validates a template before creating anything, naming file and line.

CloudFormation refuses an unresolved Ref/GetAtt/Sub name ("Unresolved resource dependencies",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html);
`sam build` refuses a CodeUri that does not exist, and Lambda's Python runtime a Handler whose
module is not in the package (Runtime.ImportModuleError).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workshop import course
from workshop.deploy.local import DeployError
from workshop.deploy.validate import validate

HEAD = ("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    Runtime: python3.12\n")


def template(tmp_path: Path, body: str, code: bool = True) -> Path:
    if code:
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    path = tmp_path / "template.yaml"
    path.write_text(HEAD + body)
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


FUNCTION = """Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Environment:
        Variables:
          TABLE: {value}
      Events:
        Get:
          Type: Api
          Properties: {{Path: /x, Method: get}}
Outputs:
  ApiUrl:
    Value: !Sub "https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/"
  Role:
    Value: !GetAtt FnRole.Arn
"""


def test_a_sound_template_has_no_findings_and_every_course_template_is_sound(tmp_path):
    assert validate(template(tmp_path, FUNCTION.format(value="!Ref Table"))) == []
    for module in course.modules():
        for tree in (module.start, module.solution):
            for path in sorted(tree.rglob("template.y*ml")):
                if ".aws-sam" not in path.parts:
                    assert validate(path) == [], path


@pytest.mark.parametrize("value, words", [
    ("!Ref Tabel", "Ref Tabel"),
    ("!GetAtt Tabel.Arn", "GetAtt Tabel"),
    ('{"Fn::GetAtt": [Tabel, Arn]}', "GetAtt Tabel"),
    ("!Sub '${Tabel}-x'", "${} in Sub Tabel"),
    ("{Ref: Tabel}", "Ref Tabel"),
])
def test_an_unresolved_name_in_a_functions_environment_is_named_with_its_line(tmp_path, value, words):
    path = template(tmp_path, FUNCTION.format(value=value))
    line = line_of(path, "TABLE:")
    assert validate(path) == [f"{path}:{line}: {words}: no parameter or resource of that name in this template"]


def test_sub_variables_of_its_own_map_and_literals_are_not_references(tmp_path):
    value = "!Sub ['${Local}-${!Literal}-${AWS::StackName}', {Local: !Ref Table}]"
    assert validate(template(tmp_path, FUNCTION.format(value=value))) == []


def test_a_missing_code_folder_or_handler_file_is_named_with_its_line(tmp_path):
    path = template(tmp_path, FUNCTION.format(value="!Ref Table").replace("CodeUri: src/", "CodeUri: nowhere/"))
    assert validate(path) == [f"{path}:{line_of(path, 'CodeUri')}: Fn: CodeUri {tmp_path / 'nowhere'} does not exist"]
    path = template(tmp_path, FUNCTION.format(value="!Ref Table").replace("app.handler", "cart.handler"))
    assert validate(path) == [
        f"{path}:{line_of(path, 'Handler')}: Fn: Handler cart.handler names cart.py, which is not in {tmp_path / 'src'}"]


def test_the_local_deploy_refuses_before_creating_anything(local, tmp_path):
    path = template(tmp_path, FUNCTION.format(value="!Ref Tabel"))
    line = line_of(path, "TABLE:")
    with pytest.raises(DeployError, match=rf"template.yaml:{line}: Ref Tabel"):
        local.deployer().deploy(path, "refused")
    assert "refused" not in local.deployer().stacks()
    assert list(local.validate_tree(tmp_path).values()) == [
        f"{path}:{line}: Ref Tabel: no parameter or resource of that name in this template"]


def test_a_misspelt_ref_in_globals_is_found_where_cfn_lint_is_silent(tmp_path):
    """cfn-lint 1.x exits 0 on this (measured): the troubleshooting page says so."""
    cart = course.module("01").solution / "services" / "cart"
    shutil.copytree(cart, tmp_path / "cart")
    path = tmp_path / "cart" / "template.yaml"
    text = path.read_text()
    assert "CART_TABLE: !Ref CartTable" in text.split("Resources:")[0]
    path.write_text(text.replace("CART_TABLE: !Ref CartTable", "CART_TABLE: !Ref CartTabel", 1))
    findings = validate(path)
    assert len(findings) == 1 and "Ref CartTabel" in findings[0]
