/* paths.c - the default configuration and data folders; see paths.h. */
#include "lib/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool paths_installed(void)
{
	return PATHS_CONFIG_DIR[0] != '\0';
}

static const char compiled_data[] = PATHS_DATA_DIR;

const char *paths_data(void)
{
	const char *env = getenv(PATHS_DATA_ENV);
	return env && env[0] ? env : compiled_data;
}

bool paths_is_default_data(const char *data)
{
	/* By identity, not by text: "--data var" is a choice the person made. */
	return data == compiled_data || data == getenv(PATHS_DATA_ENV);
}

char *paths_config(const char *name)
{
	if (!paths_installed())
		return NULL;
	size_t len = strlen(PATHS_CONFIG_DIR) + 1 + strlen(name) + 1;
	char *path = malloc(len);
	if (!path)
		return NULL;
	snprintf(path, len, "%s/%s", PATHS_CONFIG_DIR, name);
	if (access(path, F_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

char *paths_absolute(const char *data, char *buf, size_t len)
{
	char cwd[4096];
	if (data[0] != '/' && getcwd(cwd, sizeof cwd) &&
	    (size_t)snprintf(buf, len, "%s/%s", cwd, data) < len)
		return buf;
	snprintf(buf, len, "%s", data);
	return buf;
}
