"""`workshop clean --target aws`, against the local cloud posing as an account."""

from __future__ import annotations


from workshop.deploy.clean import MANAGED_TAG, clean

BUCKET_STACK = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\nOutputs:\n  Bucket:\n    Value: !Ref Bucket\n"


def test_clean_deletes_only_tagged_stacks_and_empties_their_buckets_first(local, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(BUCKET_STACK)
    deployer = local.deployer("staging")
    ours = deployer.deploy(template, "ws-cart", tags={MANAGED_TAG: "true"})
    theirs = deployer.deploy(template, "production-db")
    session = local.session("staging")
    s3 = session.client("s3")
    for i in range(3):
        s3.put_object(Bucket=ours.outputs["Bucket"], Key=f"k{i}", Body=b"x")

    asked = []
    declined = clean(session, lambda names: asked.append(names) or False)
    assert asked == [["ws-cart"]] and declined.deleted == []
    assert "ws-cart" in deployer.stacks()

    report = clean(session, lambda names: True)
    assert report.deleted == ["ws-cart"]
    assert report.emptied_buckets == {ours.outputs["Bucket"]: 3}
    assert report.kept == ["production-db"]
    assert deployer.stacks() == ["production-db"]
    deployer.destroy(theirs.name)
