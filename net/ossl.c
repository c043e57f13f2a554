/* ossl.c - OpenSSL loaded on demand; see ossl.h. */
#include "net/ossl.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/opensslv.h>

#define STRINGIFY(x)	 #x
#define SONAME(lib, ver) "lib" lib ".so." STRINGIFY(ver)
#define CRYPTO_SONAME	 SONAME("crypto", OPENSSL_VERSION_MAJOR)
#define SSL_SONAME	 SONAME("ssl", OPENSSL_VERSION_MAJOR)

struct ossl ossl;

static void *crypto_handle, *ssl_handle;

/* Opens soname and finds each function; a missing one is an error naming
 * it (a library older than the headers we were built with). */
static int open_library(const char *soname, void **handle, int (*resolve)(void *, struct err *),
			struct err *e)
{
	if (*handle)
		return 0;
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return err_set(e, -ENOENT, "cannot load %s (apt-get install libssl3): %s", soname,
			       dlerror());
	int rc = resolve(h, e);
	if (rc != 0) {
		dlclose(h);
		return rc;
	}
	*handle = h;
	return 0;
}

/* dlsym returns void *; the pointer's real type comes from the header. */
#define RESOLVE(f)                                                                                 \
	if (!(*(void **)&ossl.f = dlsym(h, #f)))                                                   \
		return err_set(e, -ENOENT, "OpenSSL: no function %s in the library", #f);

static int resolve_crypto(void *h, struct err *e)
{
	OSSL_CRYPTO_FUNCTIONS(RESOLVE)
	return 0;
}

static int resolve_ssl(void *h, struct err *e)
{
	OSSL_SSL_FUNCTIONS(RESOLVE)
	return 0;
}

int ossl_load_crypto(struct err *e)
{
	return open_library(CRYPTO_SONAME, &crypto_handle, resolve_crypto, e);
}

int ossl_load_ssl(struct err *e)
{
	int rc = ossl_load_crypto(e);
	return rc ? rc : open_library(SSL_SONAME, &ssl_handle, resolve_ssl, e);
}
