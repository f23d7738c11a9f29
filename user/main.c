// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "log.h"

int main(int argc, char **argv)
{
	fprintf(stderr, "usage: colod COMMAND\n");
	return 2;
}
