// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `colod top` alone, for the screen test while main.c has no top command. */
int cmd_top(int argc, char **argv);

int main(int argc, char **argv)
{
	return cmd_top(argc, argv);
}
