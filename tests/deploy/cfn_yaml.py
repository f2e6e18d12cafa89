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


# --- Evaluation for given parameter values ----------------------------------------
# What CloudFormation would make of a template's intrinsics once some parameters
# have values: Ref of those parameters, the conditions that depend on them only,
# Fn::If on such conditions (AWS::NoValue dropped), and Fn::Join, Fn::Sub and
# Fn::Split over values that are then known. Everything else (other parameters,
# pseudo parameters, resources) stays as written.
_UNKNOWN = object()
_NOVALUE = object()


def _known(v):
    if isinstance(v, list):
        return all(_known(x) for x in v)
    return isinstance(v, (str, bool))


def _value(v, params, conditions):
    """v with what can be evaluated evaluated; _NOVALUE for AWS::NoValue."""
    if isinstance(v, list):
        out = [_value(x, params, conditions) for x in v]
        return [x for x in out if x is not _NOVALUE]
    if not isinstance(v, dict):
        return v
    if len(v) == 1:
        (k, a), = v.items()
        if k == "Ref":
            if a == "AWS::NoValue":
                return _NOVALUE
            return params.get(a, v)
        if k == "Fn::If":
            c = conditions.get(a[0], _UNKNOWN)
            if c is not _UNKNOWN:
                return _value(a[1] if c else a[2], params, conditions)
            branches = [_value(b, params, conditions) for b in a[1:]]
            return {k: [a[0]] + [{"Ref": "AWS::NoValue"} if b is _NOVALUE else b
                                 for b in branches]}
        args = _value(a, params, conditions)
        if k == "Fn::Join" and _known(args) and isinstance(args[1], list):
            return args[0].join(args[1])
        if k == "Fn::Split" and _known(args) and isinstance(args[1], str):
            return args[1].split(args[0])
        if k == "Fn::Sub" and isinstance(args, list) and isinstance(args[0], str):
            known = {n: x for n, x in args[1].items() if isinstance(x, str)}
            s = args[0]
            for n, x in known.items():
                s = s.replace("${%s}" % n, x)
            rest = {n: x for n, x in args[1].items() if n not in known}
            return s if not rest else {"Fn::Sub": [s, rest]}
        if k == "Fn::Equals" and _known(args):
            return args[0] == args[1]
        if k == "Fn::Not" and _known(args):
            return not args[0]
        if k == "Fn::And" and _known(args):
            return all(args)
        if k == "Fn::Or" and _known(args):
            return any(args)
        if k == "Condition" and conditions.get(a, _UNKNOWN) is not _UNKNOWN:
            return conditions[a]
        return {k: args}
    out = {k: _value(x, params, conditions) for k, x in v.items()}
    return {k: x for k, x in out.items() if x is not _NOVALUE}



def evaluate(template, params):
    """The template with `params` (name -> str or list of str) applied: the
    conditions they decide, and the intrinsics over them, evaluated."""
    conditions = {}
    for name, c in template.get("Conditions", {}).items():
        r = _value(c, params, conditions)
        if isinstance(r, bool):
            conditions[name] = r
    out = dict(template)
    out["Resources"] = _value(template["Resources"], params, conditions)
    return out, conditions
