#include "integration/fixture.h"

namespace dp::testing {
TempDir* IntegrationTest::pki_dir_ = nullptr;
TestPki* IntegrationTest::pki_ = nullptr;
}  // namespace dp::testing
