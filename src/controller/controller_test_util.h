// The controller's handler and loop unit tests' fixture over the example
// world (fake_world.h).
#pragma once

#include <gtest/gtest.h>

#include "base/clock.h"
#include "controller/fake_world.h"

namespace spk::controller {

inline constexpr const char* kArn = kExampleArn;

class ControllerWorldTest : public ::testing::Test {
 protected:
  void SetUp() override { FillExampleWorld(cloud, config); }

  FakeCloudView cloud;
  ControllerConfig config;
  ManualClock clock;
};

}  // namespace spk::controller
