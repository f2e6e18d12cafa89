#!/usr/bin/env bash
# docs/install.md, "Option B: by hand", as a script: the commands of the doc's
# ```sh blocks, in the doc's order, and nothing else but the settings checks and
# the choice of controller below. tests/deploy/install_by_hand_test.py checks
# that every block of the doc is in this file as written (and every command
# here in the doc), and runs this script against moto_server from a clean start.
#
# Run it from a checkout of spotkeeper (it reads deploy/iam/ and, for a Lambda
# controller, build/spotkeeper-lambda.zip) in an empty working directory or the
# checkout itself; it writes its JSON files into the current directory:
#
#   REGION=eu-west-1 CLUSTER=web SPOT_FLEET_IDS=sfr-... ON_DEMAND_GROUP=web-on-demand \
#   CONTROLLER=lambda IMAGE=ACCOUNT.dkr.ecr.eu-west-1.amazonaws.com/spotkeeper:0.1.0 \
#     bash scripts/install_by_hand.sh
#
#   bash scripts/install_by_hand.sh --leave-dry-run   # later, same settings and directory
#
# Against a test endpoint (moto_server), set AWS_ENDPOINT_URL: every `aws` call
# below then gets --endpoint-url (the AWS CLI v1 ignores AWS_ENDPOINT_URL for
# some services).
set -euo pipefail

if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
fi

# --- Settings ----------------------------------------------------------------
STACK=${STACK:-spotkeeper}
REGION=${REGION:?set REGION, see docs/install.md Option B}
CLUSTER=${CLUSTER:?set CLUSTER, see docs/install.md Option B}
SPOT_FLEET_IDS=${SPOT_FLEET_IDS-}
EC2_FLEET_IDS=${EC2_FLEET_IDS-}
SPOT_ASGS=${SPOT_ASGS-}
ON_DEMAND_GROUP=${ON_DEMAND_GROUP:?set ON_DEMAND_GROUP, see docs/install.md Option B}
ON_DEMAND_UNITS=${ON_DEMAND_UNITS-}
CONTROLLER=${CONTROLLER:-lambda}
IMAGE=${IMAGE:?set IMAGE, see docs/install.md Option B}
case "$CONTROLLER" in
  lambda | ecs-service) ;;
  *) echo "CONTROLLER must be lambda or ecs-service, not '$CONTROLLER'" >&2; exit 2 ;;
esac
# "a, b," -> "a,b": the group names go into an event pattern and a policy as they are.
SPOT_ASGS=$(printf %s "$SPOT_ASGS" | tr -d '[:space:]' | sed 's/,,*/,/g; s/^,//; s/,$//')
export AWS_DEFAULT_REGION=$REGION
ACCOUNT=$(aws sts get-caller-identity --query Account --output text)

leave_dry_run() {
  # --- Leaving dry run -------------------------------------------------------
  if [ "$CONTROLLER" = lambda ]; then
    sed -i 's/"SPOTKEEPER_DRY_RUN": "true"/"SPOTKEEPER_DRY_RUN": "false"/' controller-env.json
    aws lambda update-function-configuration --function-name "$STACK-controller" \
      --environment file://controller-env.json
  else
    sed -i 's/"SPOTKEEPER_DRY_RUN", "value": "true"/"SPOTKEEPER_DRY_RUN", "value": "false"/' controller-task.json
    aws ecs register-task-definition --cli-input-json file://controller-task.json
    aws ecs update-service --cluster "$CLUSTER" --service "$STACK-controller" \
      --task-definition "$STACK-controller"
  fi
}
if [ "${1:-}" = --leave-dry-run ]; then
  leave_dry_run
  exit 0
fi

# --- 1. Topic, queues, subscription ------------------------------------------
TOPIC_ARN=$(aws sns create-topic --name "$STACK-notices" --query TopicArn --output text)
DLQ_URL=$(aws sqs create-queue --queue-name "$STACK-notices-dlq" \
  --attributes MessageRetentionPeriod=1209600,SqsManagedSseEnabled=true \
  --query QueueUrl --output text)
DLQ_ARN=$(aws sqs get-queue-attributes --queue-url "$DLQ_URL" \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)
cat > queue-attributes.json <<EOF
{"VisibilityTimeout": "360", "MessageRetentionPeriod": "86400", "SqsManagedSseEnabled": "true",
 "RedrivePolicy": "{\"deadLetterTargetArn\": \"$DLQ_ARN\", \"maxReceiveCount\": \"5\"}"}
EOF
QUEUE_URL=$(aws sqs create-queue --queue-name "$STACK-notices" \
  --attributes file://queue-attributes.json --query QueueUrl --output text)
QUEUE_ARN=$(aws sqs get-queue-attributes --queue-url "$QUEUE_URL" \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)
aws sns subscribe --topic-arn "$TOPIC_ARN" --protocol sqs \
  --notification-endpoint "$QUEUE_ARN" --attributes RawMessageDelivery=true

# --- 2. EventBridge rules ----------------------------------------------------
aws events put-rule --name "$STACK-spot-interruption" \
  --event-pattern '{"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}'
aws events put-targets --rule "$STACK-spot-interruption" --targets "Id=notice-queue,Arn=$QUEUE_ARN"
aws events put-rule --name "$STACK-rebalance-recommendation" \
  --event-pattern '{"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]}'
aws events put-targets --rule "$STACK-rebalance-recommendation" --targets "Id=notice-queue,Arn=$QUEUE_ARN"
aws events put-rule --name "$STACK-instance-state-change" \
  --event-pattern '{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["stopping", "shutting-down", "terminated"]}}'
aws events put-targets --rule "$STACK-instance-state-change" --targets "Id=notice-queue,Arn=$QUEUE_ARN"
GROUP_NAMES="\"$ON_DEMAND_GROUP\"${SPOT_ASGS:+,\"${SPOT_ASGS//,/\",\"}\"}"
aws events put-rule --name "$STACK-lifecycle-action" \
  --event-pattern '{"source": ["aws.autoscaling"], "detail-type": ["EC2 Instance-terminate Lifecycle Action", "EC2 Instance-launch Lifecycle Action"], "detail": {"AutoScalingGroupName": ['"$GROUP_NAMES"']}}'
aws events put-targets --rule "$STACK-lifecycle-action" --targets "Id=notice-queue,Arn=$QUEUE_ARN"
aws events put-rule --name "$STACK-health-scheduled-change" \
  --event-pattern '{"source": ["aws.health"], "detail-type": ["AWS Health Event"], "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]}}'
aws events put-targets --rule "$STACK-health-scheduled-change" --targets "Id=notice-queue,Arn=$QUEUE_ARN"

# --- 3. Queue policy ---------------------------------------------------------
cat > queue-policy.json <<EOF
{"Version": "2012-10-17", "Statement": [
  {"Sid": "TopicDelivers", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
   "Action": "sqs:SendMessage", "Resource": "$QUEUE_ARN",
   "Condition": {"ArnEquals": {"aws:SourceArn": "$TOPIC_ARN"}}},
  {"Sid": "RulesDeliver", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
   "Action": "sqs:SendMessage", "Resource": "$QUEUE_ARN",
   "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:events:$REGION:$ACCOUNT:rule/$STACK-*"}}}]}
EOF
aws sqs set-queue-attributes --queue-url "$QUEUE_URL" --attributes "Policy='$(cat queue-policy.json)'"

# --- 4. IAM roles ------------------------------------------------------------
cat > spotkeeper-iam.sed <<EOF
s/\${AWS::Partition}/aws/g
s/\${AWS::Region}/$REGION/g
s/\${AWS::AccountId}/$ACCOUNT/g
s/\${ClusterName}/$CLUSTER/g
s/\${OnDemandAutoScalingGroup}/$ON_DEMAND_GROUP/g
s/\${NoticeTopic}/$TOPIC_ARN/g
s/\${NoticeQueue.Arn}/$QUEUE_ARN/g
s#\${ControllerFunctionLogGroup.Arn}#arn:aws:logs:$REGION:$ACCOUNT:log-group:/aws/lambda/$STACK-controller:*#g
EOF
if [ -n "$SPOT_ASGS" ]; then
  echo "s#autoScalingGroupName/\${SpotAutoScalingGroups}#autoScalingGroupName/${SPOT_ASGS//,/\",\"arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/}#" >> spotkeeper-iam.sed
else
  echo "/\${SpotAutoScalingGroups}/d" >> spotkeeper-iam.sed
fi
sed -f spotkeeper-iam.sed deploy/iam/agent.json > agent-policy.json
sed -f spotkeeper-iam.sed deploy/iam/controller.json > controller-policy.json
sed -f spotkeeper-iam.sed deploy/iam/controller-lambda-runtime.json > controller-lambda-runtime-policy.json
grep '\${' agent-policy.json controller-policy.json controller-lambda-runtime-policy.json || echo "no placeholder left"
cat > ecs-tasks-trust.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
EOF
cat > controller-trust.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}
EOF
aws iam create-role --role-name "$STACK-agent" \
  --assume-role-policy-document file://ecs-tasks-trust.json
aws iam put-role-policy --role-name "$STACK-agent" --policy-name spotkeeper-agent \
  --policy-document file://agent-policy.json
aws iam create-role --role-name "$STACK-controller" \
  --assume-role-policy-document file://controller-trust.json
aws iam put-role-policy --role-name "$STACK-controller" --policy-name spotkeeper-controller \
  --policy-document file://controller-policy.json
aws iam create-role --role-name "$STACK-task-execution" \
  --assume-role-policy-document file://ecs-tasks-trust.json
aws iam attach-role-policy --role-name "$STACK-task-execution" \
  --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy

# --- 5. Agent daemon ---------------------------------------------------------
aws logs create-log-group --log-group-name "/ecs/$STACK"
aws logs put-retention-policy --log-group-name "/ecs/$STACK" --retention-in-days 30
cat > agent-task.json <<EOF
{"family": "$STACK-agent",
 "networkMode": "host",
 "requiresCompatibilities": ["EC2"],
 "taskRoleArn": "arn:aws:iam::$ACCOUNT:role/$STACK-agent",
 "executionRoleArn": "arn:aws:iam::$ACCOUNT:role/$STACK-task-execution",
 "containerDefinitions": [{
   "name": "agent", "image": "$IMAGE", "essential": true,
   "command": ["agent"], "cpu": 32, "memory": 64,
   "environment": [
     {"name": "SPOTKEEPER_SNS_TOPIC_ARN", "value": "$TOPIC_ARN"},
     {"name": "SPOTKEEPER_DRAIN", "value": "false"},
     {"name": "SPOTKEEPER_LOG_FORMAT", "value": "json"},
     {"name": "AWS_REGION", "value": "$REGION"}],
   "logConfiguration": {"logDriver": "awslogs", "options": {
     "awslogs-group": "/ecs/$STACK", "awslogs-region": "$REGION",
     "awslogs-stream-prefix": "agent"}}}]}
EOF
aws ecs register-task-definition --cli-input-json file://agent-task.json
aws ecs create-service --cluster "$CLUSTER" --service-name "$STACK-agent" \
  --task-definition "$STACK-agent" --launch-type EC2 --scheduling-strategy DAEMON

# --- 6. Controller -----------------------------------------------------------
if [ "$CONTROLLER" = lambda ]; then
  # --- 6a. Lambda ------------------------------------------------------------
  aws logs create-log-group --log-group-name "/aws/lambda/$STACK-controller"
  aws logs put-retention-policy --log-group-name "/aws/lambda/$STACK-controller" --retention-in-days 30
  aws iam put-role-policy --role-name "$STACK-controller" \
    --policy-name spotkeeper-controller-lambda-runtime \
    --policy-document file://controller-lambda-runtime-policy.json
  cat > controller-env.json <<EOF
{"Variables": {
  "SPOTKEEPER_CLUSTER": "$CLUSTER",
  "SPOTKEEPER_SPOT_FLEET_ID": "$SPOT_FLEET_IDS",
  "SPOTKEEPER_EC2_FLEET_ID": "$EC2_FLEET_IDS",
  "SPOTKEEPER_SPOT_ASG": "$SPOT_ASGS",
  "SPOTKEEPER_ON_DEMAND_ASG": "$ON_DEMAND_GROUP",
  "SPOTKEEPER_ON_DEMAND_UNITS": "$ON_DEMAND_UNITS",
  "SPOTKEEPER_DRY_RUN": "true",
  "SPOTKEEPER_LOG_FORMAT": "json"}}
EOF
  aws lambda create-function --function-name "$STACK-controller" \
    --runtime provided.al2023 --handler bootstrap --architectures x86_64 \
    --zip-file fileb://build/spotkeeper-lambda.zip --timeout 60 --memory-size 128 \
    --role "arn:aws:iam::$ACCOUNT:role/$STACK-controller" \
    --environment file://controller-env.json
  aws lambda create-event-source-mapping --function-name "$STACK-controller" \
    --event-source-arn "$QUEUE_ARN" --batch-size 10 \
    --function-response-types ReportBatchItemFailures --scaling-config MaximumConcurrency=2
  aws events put-rule --name "$STACK-reconcile" --schedule-expression 'rate(5 minutes)'
  aws events put-targets --rule "$STACK-reconcile" --targets "Id=notice-queue,Arn=$QUEUE_ARN"
else
  # --- 6b. ECS service -------------------------------------------------------
  cat > controller-task.json <<EOF
{"family": "$STACK-controller",
 "networkMode": "bridge",
 "requiresCompatibilities": ["EC2"],
 "taskRoleArn": "arn:aws:iam::$ACCOUNT:role/$STACK-controller",
 "executionRoleArn": "arn:aws:iam::$ACCOUNT:role/$STACK-task-execution",
 "containerDefinitions": [{
   "name": "controller", "image": "$IMAGE", "essential": true,
   "command": ["controller", "--metrics-listen", "0.0.0.0:9102"], "cpu": 64, "memory": 128,
   "healthCheck": {"command": ["CMD", "/usr/local/bin/spotkeeper", "healthcheck", "--url",
     "http://127.0.0.1:9102/healthz"], "interval": 30, "timeout": 10, "retries": 3, "startPeriod": 60},
   "portMappings": [{"containerPort": 9102, "hostPort": 0, "protocol": "tcp"}],
   "environment": [
     {"name": "SPOTKEEPER_QUEUE_URL", "value": "$QUEUE_URL"},
     {"name": "SPOTKEEPER_CLUSTER", "value": "$CLUSTER"},
     {"name": "SPOTKEEPER_SPOT_FLEET_ID", "value": "$SPOT_FLEET_IDS"},
     {"name": "SPOTKEEPER_EC2_FLEET_ID", "value": "$EC2_FLEET_IDS"},
     {"name": "SPOTKEEPER_SPOT_ASG", "value": "$SPOT_ASGS"},
     {"name": "SPOTKEEPER_ON_DEMAND_ASG", "value": "$ON_DEMAND_GROUP"},
     {"name": "SPOTKEEPER_ON_DEMAND_UNITS", "value": "$ON_DEMAND_UNITS"},
     {"name": "SPOTKEEPER_DRY_RUN", "value": "true"},
     {"name": "SPOTKEEPER_LOG_FORMAT", "value": "json"},
     {"name": "AWS_REGION", "value": "$REGION"}],
   "logConfiguration": {"logDriver": "awslogs", "options": {
     "awslogs-group": "/ecs/$STACK", "awslogs-region": "$REGION",
     "awslogs-stream-prefix": "controller"}}}]}
EOF
  aws ecs register-task-definition --cli-input-json file://controller-task.json
  aws ecs create-service --cluster "$CLUSTER" --service-name "$STACK-controller" \
    --task-definition "$STACK-controller" --launch-type EC2 --desired-count 1 \
    --deployment-configuration minimumHealthyPercent=0,maximumPercent=100
fi

# --- Outputs -----------------------------------------------------------------
echo "TOPIC_ARN=$TOPIC_ARN QUEUE_URL=$QUEUE_URL DLQ_URL=$DLQ_URL"
