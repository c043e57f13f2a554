/* test_sha256.c - lib/sha256 against the published vectors: FIPS 180-4's
 * examples (and the million 'a's) and RFC 4231's HMAC-SHA256 cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/sha256.h"

static void hex(const unsigned char *d, char *out)
{
	for (int i = 0; i < SHA256_BYTES; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void digest_is(const char *msg, size_t len, const char *want)
{
	struct sha256 c;
	unsigned char d[SHA256_BYTES];
	char got[65];
	sha256_init(&c);
	sha256_update(&c, msg, len);
	sha256_final(&c, d);
	hex(d, got);
	assert_string_equal(got, want);
}

static void fips_examples(void **state)
{
	(void)state;
	digest_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	digest_is(two, strlen(two),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	struct sha256 c;
	unsigned char d[SHA256_BYTES];
	char got[65], a[1000];
	memset(a, 'a', sizeof a);
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, a, sizeof a);
	sha256_final(&c, d);
	hex(d, got);
	assert_string_equal(got,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hmac_is(const void *key, size_t klen, const void *msg, size_t mlen, const char *want)
{
	unsigned char d[SHA256_BYTES];
	char got[65];
	sha256_hmac(key, klen, msg, mlen, d);
	hex(d, got);
	assert_string_equal(got, want);
}

static void rfc4231_cases(void **state)
{
	(void)state;
	unsigned char k20[20], k131[131], aa[50];
	memset(k20, 0x0b, sizeof k20);
	hmac_is(k20, 20, "Hi There", 8,
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_is("Jefe", 4, "what do ya want for nothing?", 28,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k20, 0xaa, sizeof k20);
	memset(aa, 0xdd, sizeof aa);
	hmac_is(k20, 20, aa, 50,
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	memset(k131, 0xaa, sizeof k131);
	const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
	hmac_is(k131, 131, big, strlen(big),
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void equal_compares_all(void **state)
{
	(void)state;
	assert_true(sha256_equal("abcd", "abcd", 4));
	assert_false(sha256_equal("abcd", "abce", 4));
	assert_false(sha256_equal("xbcd", "abcd", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fips_examples),
		cmocka_unit_test(rfc4231_cases),
		cmocka_unit_test(equal_compares_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
