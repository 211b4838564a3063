/*
 * ui: the embedded files by name with their types and tags, and Chart.js
 * read from a directory, kept while unchanged and read again when it
 * changes, refused when it is gone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "ui.h"
#include "ui_files.h"

static char dir[64];
static char file[96];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/stabild-test-ui-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof file, "%s/chart.min.js", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	return 0;
}

static void
write_file(const char *text, time_t mtime)
{
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(utimes(file, tv), 0);
}

static void
test_embedded(void **state)
{
	static const struct {
		const char	*name;
		const char	*type;
	} cases[] = {
		{ "", "text/html; charset=utf-8" },
		{ "index.html", "text/html; charset=utf-8" },
		{ "app.js", "text/javascript; charset=utf-8" },
		{ "style.css", "text/css; charset=utf-8" },
	};
	struct ui *ui = ui_create();
	struct ui_file f, g;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(ui_find(ui, cases[i].name, dir, &f), 0);
		assert_string_equal(f.type, cases[i].type);
		assert_true(f.len > 100);
		assert_true(f.etag[0] == '"');
		assert_true(f.etag[strlen(f.etag) - 1] == '"');
		assert_int_equal(strlen(f.etag), 26);
	}
	/* The page is index.html; its tag differs from the script's. */
	assert_int_equal(ui_find(ui, "", NULL, &f), 0);
	assert_int_equal(ui_find(ui, "index.html", NULL, &g), 0);
	assert_ptr_equal(f.data, g.data);
	assert_memory_equal(f.data, "<!doctype html>", 15);
	assert_int_equal(ui_find(ui, "app.js", NULL, &g), 0);
	assert_string_not_equal(f.etag, g.etag);
	/* Every file of the table can be found. */
	for (i = 0; i < ui_embedded_count; i++)
		assert_int_equal(ui_find(ui, ui_embedded[i].name, NULL, &f), 0);
	assert_int_equal(ui_find(ui, "nope.js", dir, &f), -1);
	assert_int_equal(ui_find(ui, "../ui.c", dir, &f), -1);
	assert_int_equal(ui_find(ui, "INDEX.HTML", dir, &f), -1);
	ui_free(ui);
	ui_free(NULL);
}

static void
test_chartjs(void **state)
{
	struct ui *ui = ui_create();
	struct ui_file f;
	char tag[64];
	const void *data;

	(void)state;
	/* Missing: refused, and not found without a directory either. */
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), -1);
	assert_int_equal(ui_find(ui, "chart.js", NULL, &f), -1);

	write_file("var Chart = 1;\n", 1000);
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), 0);
	assert_string_equal(f.type, "text/javascript; charset=utf-8");
	assert_int_equal(f.len, 15);
	assert_memory_equal(f.data, "var Chart = 1;\n", 15);
	snprintf(tag, sizeof tag, "%s", f.etag);
	data = f.data;

	/* Unchanged: the same copy and tag. */
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), 0);
	assert_ptr_equal(f.data, data);
	assert_string_equal(f.etag, tag);

	/* Same size, another time: read again, another tag. */
	write_file("var Chart = 2;\n", 2000);
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), 0);
	assert_memory_equal(f.data, "var Chart = 2;\n", 15);
	assert_string_not_equal(f.etag, tag);

	/* Empty or gone: refused. */
	write_file("", 3000);
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), -1);
	unlink(file);
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), -1);
	write_file("var Chart = 3;\n", 4000);
	assert_int_equal(ui_find(ui, "chart.js", dir, &f), 0);
	assert_memory_equal(f.data, "var Chart = 3;\n", 15);
	ui_free(ui);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded),
		cmocka_unit_test_setup_teardown(test_chartjs, setup, teardown),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
