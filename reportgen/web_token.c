/* web_token.c - CSRF tokens (see web_token.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/rtime.h"
#include "lib/sha256.h"
#include "reportgen/web_token.h"

#define KEY_BYTES   32
#define NONCE_BYTES 16

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int web_dir(const char *data_dir, char *buf, size_t cap, struct err *e)
{
	snprintf(buf, cap, "%s/web", data_dir);
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return err_sys(e, -errno, "cannot create %s", buf);
	return 0;
}

/* Reads the key, making it the first time (O_EXCL: two first requests at
 * once agree on one key). */
static int load_key(const char *data_dir, unsigned char key[KEY_BYTES], struct err *e)
{
	char path[4096];
	int rc = web_dir(data_dir, path, sizeof path, e);
	if (rc < 0)
		return rc;
	strncat(path, "/key", sizeof path - strlen(path) - 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		unsigned char fresh[KEY_BYTES];
		if (getrandom(fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh ||
		    write(fd, fresh, sizeof fresh) != (ssize_t)sizeof fresh || fsync(fd) < 0) {
			rc = err_sys(e, -errno ? -errno : -EIO, "cannot write %s", path);
			close(fd);
			unlink(path);
			return rc;
		}
		close(fd);
	} else if (errno != EEXIST) {
		return err_sys(e, -errno, "cannot create %s", path);
	}
	for (int tries = 0; tries < 50; tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(e, -errno, "cannot read %s", path);
		ssize_t got = read(fd, key, KEY_BYTES);
		close(fd);
		if (got == KEY_BYTES)
			return 0;
		usleep(1000); /* another request is writing it this instant */
	}
	return err_set(e, -EIO, "%s: not a key of %d bytes", path, KEY_BYTES);
}

static void mac(const unsigned char key[KEY_BYTES], const char *user, const char *expiry,
		const char *nonce, char out[65])
{
	char msg[512];
	int len = snprintf(msg, sizeof msg, "%s\n%s\n%s", user, expiry, nonce);
	unsigned char digest[SHA256_BYTES];
	sha256_hmac(key, KEY_BYTES, msg,
		    (size_t)(len < (int)sizeof msg ? len : (int)sizeof msg - 1), digest);
	hex(digest, SHA256_BYTES, out);
}

int web_token_make(const char *data_dir, const char *user, int64_t now, char *buf, size_t cap,
		   struct err *e)
{
	unsigned char key[KEY_BYTES], raw[NONCE_BYTES];
	int rc = load_key(data_dir, key, e);
	if (rc < 0)
		return rc;
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return err_sys(e, -EIO, "no random bytes for a form token");
	char expiry[24], nonce[2 * NONCE_BYTES + 1], sig[65];
	snprintf(expiry, sizeof expiry, "%" PRId64, (now + WEB_TOKEN_LIFE_NS) / RTIME_NS_PER_SEC);
	hex(raw, sizeof raw, nonce);
	mac(key, user, expiry, nonce, sig);
	memset(key, 0, sizeof key);
	if ((size_t)snprintf(buf, cap, "%s.%s.%s", expiry, nonce, sig) >= cap)
		return err_set(e, -ENAMETOOLONG, "form token buffer too small");
	return 0;
}

/* Appends nonce to the used list unless it is there; drops entries that
 * expired (they would be refused as expired anyway).  Under flock, so two
 * requests spending one token at once cannot both win. */
static int spend_nonce(const char *data_dir, const char *nonce, int64_t expiry, int64_t now_s,
		       struct err *e)
{
	char path[4096];
	int rc = web_dir(data_dir, path, sizeof path, e);
	if (rc < 0)
		return rc;
	strncat(path, "/used", sizeof path - strlen(path) - 1);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, -errno, "cannot open %s", path);
	FILE *f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return err_sys(e, -ENOMEM, "cannot open %s", path);
	}
	flock(fd, LOCK_EX);
	char line[128], *keep = NULL;
	size_t keep_len = 0, live = 0, dead = 0;
	FILE *kept = open_memstream(&keep, &keep_len);
	rc = 0;
	while (fgets(line, sizeof line, f)) {
		long long exp = 0;
		char seen[64] = "";
		if (sscanf(line, "%lld %63s", &exp, seen) != 2 || exp < now_s) {
			dead++;
			continue;
		}
		if (strcmp(seen, nonce) == 0)
			rc = err_set(e, -EACCES,
				     "form token already used: reload the page for a new one");
		live++;
		if (kept)
			fputs(line, kept);
	}
	if (rc == 0) {
		if (dead > 64 && kept) { /* rewrite without the expired ones */
			fflush(kept);
			if (ftruncate(fd, 0) == 0) {
				rewind(f);
				fwrite(keep, 1, keep_len, f);
			}
		}
		fseek(f, 0, SEEK_END);
		fprintf(f, "%lld %s\n", (long long)expiry, nonce);
		/* Not fsynced: losing the line to a crash only lets that one token
		 * be used again within its hour, while the change it made is
		 * durable in alertd's store either way. */
		if (fflush(f) != 0)
			rc = err_sys(e, -EIO, "cannot record the form token in %s", path);
	}
	if (kept)
		fclose(kept);
	free(keep);
	(void)live;
	fclose(f); /* drops the lock */
	return rc;
}

int web_token_spend(const char *data_dir, const char *user, const char *token, int64_t now,
		    struct err *e)
{
	if (!token || !*token)
		return err_set(e, -EACCES, "no form token: submit the form from the page");
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2 || dot1 - token > 20 || dot2 - dot1 - 1 != 2 * NONCE_BYTES ||
	    strlen(dot2 + 1) != 64)
		return err_set(e, -EACCES, "malformed form token");
	char expiry[24], nonce[2 * NONCE_BYTES + 1], want[65];
	memcpy(expiry, token, (size_t)(dot1 - token));
	expiry[dot1 - token] = '\0';
	memcpy(nonce, dot1 + 1, 2 * NONCE_BYTES);
	nonce[2 * NONCE_BYTES] = '\0';
	for (const char *c = expiry; *c; c++)
		if (*c < '0' || *c > '9')
			return err_set(e, -EACCES, "malformed form token");
	unsigned char key[KEY_BYTES];
	int rc = load_key(data_dir, key, e);
	if (rc < 0)
		return rc;
	mac(key, user, expiry, nonce, want);
	memset(key, 0, sizeof key);
	if (!sha256_equal(want, dot2 + 1, 64))
		return err_set(e, -EACCES, "form token not made for this user");
	int64_t exp = strtoll(expiry, NULL, 10), now_s = now / RTIME_NS_PER_SEC;
	if (exp < now_s)
		return err_set(e, -EACCES, "form token expired: reload the page for a new one");
	if (exp > now_s + WEB_TOKEN_LIFE_NS / RTIME_NS_PER_SEC + 60)
		return err_set(e, -EACCES, "form token from the future");
	return spend_nonce(data_dir, nonce, exp, now_s, e);
}
