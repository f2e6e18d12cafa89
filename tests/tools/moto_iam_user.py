"""Creates an IAM user with an allow-all policy on a moto_server and prints
`ACCESS_KEY_ID SECRET_ACCESS_KEY ARN`. Spends 4 calls: run it against a server
started with INITIAL_NO_AUTH_ACTION_COUNT=4, after which moto checks SigV4.
Usage: moto_iam_user.py ENDPOINT_URL [USER_NAME]"""
import json
import sys

import boto3


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, user = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "spotkeeper-demo")
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    p = iam.create_policy(PolicyName=user + "-all", PolicyDocument=json.dumps(policy))
    iam.attach_user_policy(UserName=user, PolicyArn=p["Policy"]["Arn"])
    print(key["AccessKeyId"], key["SecretAccessKey"], arn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
