"""Loads a CloudFormation YAML template into plain JSON-like data.

Short-form intrinsics (!Ref, !Sub, !GetAtt, ...) become their long form
({"Ref": x}, {"Fn::Sub": x}, {"Fn::GetAtt": [resource, attribute]}), exactly as
CloudFormation itself reads them, so tests can compare templates with JSON."""
import yaml

_FUNCTIONS = ["Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select",
              "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Length",
              "ToJsonString"]


class _Loader(yaml.SafeLoader):
    pass


def _construct(node, loader):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _add(tag, build):
    _Loader.add_constructor(tag, lambda loader, node: build(_construct(node, loader)))


_add("!Ref", lambda v: {"Ref": v})
_add("!Condition", lambda v: {"Condition": v})
_add("!GetAtt", lambda v: {"Fn::GetAtt": v.split(".", 1) if isinstance(v, str) else v})
for _name in _FUNCTIONS:
    _add("!" + _name, (lambda n: lambda v: {"Fn::" + n: v})(_name))


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)
