// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log_escape: what a cgroup name may hold cannot steer a terminal or a log. */
#include <criterion/criterion.h>
#include "log.h"

Test(log, escape_controls_keep_the_rest)
{
	char out[128];

	log_escape("/kubepods/pod\"x\"\\y", out, sizeof(out));
	cr_expect_str_eq(out, "/kubepods/pod\"x\"\\y");
	log_escape("a\nb\033[2Jc\td\x7f", out, sizeof(out));
	cr_expect_str_eq(out, "a\\x0ab\\x1b[2Jc\\x09d\\x7f");
	/* C1 CSI (U+009B) as UTF-8; other UTF-8 stays */
	log_escape("x\xc2\x9b" "31m\xc3\xa9", out, sizeof(out));
	cr_expect_str_eq(out, "x\\xc2\\x9b31m\xc3\xa9");
	/* truncation never leaves half an escape */
	cr_expect_eq(log_escape("ab\033", out, 5), 2);
	cr_expect_str_eq(out, "ab");
}
