#include "aws/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "aws/temp_home_test_util.h"

namespace spk::aws {
namespace {

using Vars = std::map<std::string, std::string>;

TEST(ParseIni, SectionsKeysAndComments) {
  IniFile ini = ParseIni(
      "# leading comment\n"
      "ignored = before any section\n"
      "[default]\n"
      "Region = us-east-1\n"
      "  ; indented comment\n"
      "aws_access_key_id=AKID\n"
      "\n"
      "[profile   dev ]  # trailing\n"
      "region = eu-west-1 # inline comment\n"
      "secret = a#b;c\n"
      "empty =\n");
  ASSERT_EQ(ini.size(), 2u);
  EXPECT_EQ(ini["default"]["region"], "us-east-1");
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AKID");
  EXPECT_EQ(ini["default"].count("ignored"), 0u);
  ASSERT_EQ(ini.count("profile dev"), 1u);
  EXPECT_EQ(ini["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ(ini["profile dev"]["secret"], "a#b;c");
  EXPECT_EQ(ini["profile dev"]["empty"], "");
}

TEST(ParseIni, CrLfAndLaterKeysWin) {
  IniFile ini = ParseIni("[a]\r\nk = 1\r\nk = 2\r\n[a]\r\nother = x\r\n");
  EXPECT_EQ(ini["a"]["k"], "2");
  EXPECT_EQ(ini["a"]["other"], "x");
}

TEST(ParseIni, NestedContinuationLines) {
  IniFile ini = ParseIni(
      "[services local]\n"
      "ecs =\n"
      "  endpoint_url = http://127.0.0.1:4566\n"
      "  other = 1\n"
      "auto_scaling =\n"
      "    endpoint_url = http://localhost:1\n"
      "[default]\n"
      "  aws_access_key_id = A\n"
      "  aws_secret_access_key = B\n");
  EXPECT_EQ(ini["services local"]["ecs"], "endpoint_url = http://127.0.0.1:4566\nother = 1");
  auto nested = ParseNestedValue(ini["services local"]["ecs"]);
  EXPECT_EQ(nested["endpoint_url"], "http://127.0.0.1:4566");
  EXPECT_EQ(nested["other"], "1");
  EXPECT_EQ(ParseNestedValue(ini["services local"]["auto_scaling"])["endpoint_url"],
            "http://localhost:1");
  // Equally indented keys are keys, not continuations.
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "A");
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "B");
}

TEST(ParseIni, MalformedHeaderSkipsItsBody) {
  IniFile ini = ParseIni("[broken\nk = v\n[ok]\nk = w\n");
  EXPECT_EQ(ini.count("broken"), 0u);
  EXPECT_EQ(ini["ok"]["k"], "w");
}

TEST(ActiveProfileName, Order) {
  EXPECT_EQ(ActiveProfileName(MapEnv()), "default");
  EXPECT_FALSE(ProfileExplicitlySet(MapEnv()));
  EXPECT_EQ(ActiveProfileName(MapEnv(Vars{{"AWS_DEFAULT_PROFILE", "b"}})), "b");
  EXPECT_EQ(ActiveProfileName(MapEnv(Vars{{"AWS_PROFILE", "a"}, {"AWS_DEFAULT_PROFILE", "b"}})),
            "a");
  EXPECT_EQ(ActiveProfileName(MapEnv(Vars{{"AWS_PROFILE", ""}, {"AWS_DEFAULT_PROFILE", "b"}})),
            "b");
  EXPECT_TRUE(ProfileExplicitlySet(MapEnv(Vars{{"AWS_PROFILE", "a"}})));
  EXPECT_FALSE(ProfileExplicitlySet(MapEnv(Vars{{"AWS_PROFILE", ""}})));
}

TEST(FilePaths, DefaultsAndOverrides) {
  MapEnv env(Vars{{"HOME", "/home/u"}});
  EXPECT_EQ(ConfigFilePath(env), "/home/u/.aws/config");
  EXPECT_EQ(CredentialsFilePath(env), "/home/u/.aws/credentials");
  env.Set("AWS_CONFIG_FILE", "~/cfg");
  env.Set("AWS_SHARED_CREDENTIALS_FILE", "/etc/creds");
  EXPECT_EQ(ConfigFilePath(env), "/home/u/cfg");
  EXPECT_EQ(CredentialsFilePath(env), "/etc/creds");
  EXPECT_EQ(ConfigFilePath(MapEnv()), "");
  EXPECT_EQ(CredentialsFilePath(MapEnv()), "");
}

TEST(LoadConfigProfile, ProfileSectionsAndDefault) {
  TempHome home;
  home.Write(".aws/config",
             "[default]\nregion = us-east-1\noutput = json\n"
             "[profile default]\nregion = us-west-2\n"
             "[profile dev]\nregion = eu-west-1\n"
             "[prod]\nregion = ap-south-1\n");
  MapEnv env(Vars{{"HOME", home.path()}});
  auto def = LoadConfigProfile(env, "default");
  EXPECT_EQ(def["region"], "us-west-2");  // [profile default] overrides [default]
  EXPECT_EQ(def["output"], "json");
  EXPECT_EQ(LoadConfigProfile(env, "dev")["region"], "eu-west-1");
  // In the config file a bare "[prod]" is not the profile prod.
  EXPECT_TRUE(LoadConfigProfile(env, "prod").empty());
  EXPECT_TRUE(LoadConfigProfile(env, "missing").empty());
  EXPECT_TRUE(
      LoadConfigProfile(MapEnv(Vars{{"HOME", home.path() + "/nowhere"}}), "default").empty());
}

TEST(LoadConfigProfile, HonoursAwsConfigFile) {
  TempHome home;
  std::string path = home.Write("elsewhere/cfg", "[profile x]\nregion = sa-east-1\n");
  MapEnv env(Vars{{"HOME", home.path()}, {"AWS_CONFIG_FILE", path}});
  EXPECT_EQ(LoadConfigProfile(env, "x")["region"], "sa-east-1");
}

TEST(LoadCredentialsProfile, BareSectionNames) {
  TempHome home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = A\n[other]\naws_access_key_id = B\n[profile "
             "p]\naws_access_key_id = C\n");
  MapEnv env(Vars{{"HOME", home.path()}});
  auto d = LoadCredentialsProfile(env, "default");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ((*d)["aws_access_key_id"], "A");
  EXPECT_EQ((*LoadCredentialsProfile(env, "other"))["aws_access_key_id"], "B");
  // The credentials file uses bare names: "[profile p]" is not profile p.
  EXPECT_FALSE(LoadCredentialsProfile(env, "p").has_value());
  EXPECT_FALSE(LoadCredentialsProfile(env, "missing").has_value());
  EXPECT_FALSE(LoadCredentialsProfile(MapEnv(Vars{{"HOME", home.path() + "/nowhere"}}), "default")
                   .has_value());
}

TEST(LoadCredentialsProfile, HonoursSharedCredentialsFile) {
  TempHome home;
  std::string path = home.Write("x/creds", "[default]\naws_access_key_id = Z\n");
  MapEnv env(Vars{{"HOME", home.path()}, {"AWS_SHARED_CREDENTIALS_FILE", path}});
  EXPECT_EQ((*LoadCredentialsProfile(env, "default"))["aws_access_key_id"], "Z");
}

TEST(FindConfigProfile, EmptySectionExists) {
  IniFile ini = ParseIni("[profile empty]\n");
  auto p = FindConfigProfile(ini, "empty");
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->empty());
  EXPECT_FALSE(FindConfigProfile(ini, "default").has_value());
}

}  // namespace
}  // namespace spk::aws
