"""moto_server with one addition: Fn::GetAtt NestedStack.Outputs.NAME.

moto 5.2's CloudFormation creates an AWS::CloudFormation::Stack resource (the
nested template from its own S3) but its Stack model has no get_cfn_attribute, so
a parent template reading the nested stack's outputs fails to deploy
(AttributeError). This answers `Outputs.NAME` with the nested stack's own output
NAME as moto computed it (nothing else changes), then runs moto.server as
`python3 -m moto.server` would. Used by tests/deploy/cfn_reference_test.py.
"""
import sys

from moto.cloudformation.models import Stack
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.server import main


def _get_cfn_attribute(self, attribute_name):
    if attribute_name.startswith("Outputs."):
        key = attribute_name.split(".", 1)[1]
        for output in self.outputs or []:
            if output["OutputKey"] == key:
                return output["OutputValue"]
        raise KeyError("nested stack %s has no output %s" % (self.name, key))
    raise UnformattedGetAttTemplateException()


Stack.get_cfn_attribute = _get_cfn_attribute

if __name__ == "__main__":
    main(sys.argv[1:])
