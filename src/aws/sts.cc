#include "aws/sts.h"

#include "aws/service_util.h"

namespace spk::aws {

Result<CallerIdentity> StsClient::GetCallerIdentity() {
  static const std::string kAction = "GetCallerIdentity";
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::Sts(), kAction, {}));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
  internal::XmlFields f(result, "GetCallerIdentityResult");
  CallerIdentity id{f.Str("Account"), f.Str("Arn"), f.Str("UserId")};
  if (id.arn.empty() || id.account.empty()) {
    return InternalError("sts GetCallerIdentity: reply lacks Arn or Account");
  }
  return id;
}

}  // namespace spk::aws
