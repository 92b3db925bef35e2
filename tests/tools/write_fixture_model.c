/* Writes the small test model of test_model_fixture.h to argv[1]. */
#include "../test_model_fixture.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.safetensors\n", argv[0]);
        return 2;
    }
    return fixture_write_model(argv[1], 16) == 0 ? 0 : 1;
}
