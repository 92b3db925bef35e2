/* Whole-file reads and writes for tests that build or inspect files byte by
 * byte (model files, truncated audio, tagged copies). */
#ifndef GS_TEST_FILES_H
#define GS_TEST_FILES_H

#include <stddef.h>

/* Reads the whole file into a malloc'd buffer with one spare byte after
 * the data (set to 0, so text can be searched as a string). NULL on error;
 * *size is the number of bytes read. */
unsigned char *gs_test_read_file(const char *path, size_t *size);

/* Creates or truncates path and writes size bytes. 0 on success, -1 on
 * any error including a failing close. */
int gs_test_write_file(const char *path, const void *data, size_t size);

#endif
