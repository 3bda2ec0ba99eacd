package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;

/** Ferry's SigV4 signs every kind of request it sends exactly as the SDK's own signer does. */
class SigV4Test {
    private static final AwsCredentials KEYS = AwsBasicCredentials.create("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCY");

    /** A clock that tests move: the signing key changes with the day. */
    private static final class Settable extends Clock {
        Instant now = Instant.parse("2026-11-27T09:18:59Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final Settable clock = new Settable();

    @Test
    void a_ranged_get_of_a_key_with_spaces_symbols_and_accents() {
        assertSignedAsTheSdkDoes(KEYS, "GET", "http://127.0.0.1:9555/bucket/" + S3Http.encodePath("a b/c+d%e?f#g/été"),
                Map.of("Range", "bytes=0-1048575"));
    }

    @Test
    void a_put_with_its_content_md5_metadata_and_an_exclusive_create() {
        assertSignedAsTheSdkDoes(KEYS, "PUT", "http://127.0.0.1:9555/bucket/data/x.bin",
                Map.of("Content-MD5", S3Http.contentMd5("the bytes".getBytes(UTF_8), 9), "x-amz-meta-ferry-crc32c",
                        "0a1b2c3d", "If-None-Match", "*", "X-Amz-Meta-Note", "  two   spaces "));
    }

    @Test
    void a_head_of_a_bucket() {
        assertSignedAsTheSdkDoes(KEYS, "HEAD", "http://127.0.0.1:9555/bucket/", Map.of());
    }

    @Test
    void a_listing_whose_parameters_need_encoding() {
        assertSignedAsTheSdkDoes(KEYS, "GET", "http://minio.local:9000/?list-type=2&prefix=a%20b%2F%C3%A9%2B&max-keys=1000"
                + "&encoding-type=url&delimiter=%2F&continuation-token=1%2Fab%3D%3D", Map.of());
    }

    @Test
    void session_credentials_sign_their_token() {
        assertSignedAsTheSdkDoes(AwsSessionCredentials.create("ASIAEXAMPLE", "secret/+key", "token/with+chars=="),
                "GET", "https://bucket.s3.example.com/k", Map.of());
    }

    @Test
    void the_signing_key_follows_the_day_and_the_credentials() {
        SigV4 signer = new SigV4("eu-west-1", StaticCredentialsProvider.create(KEYS), clock);
        URI url = URI.create("http://127.0.0.1:9555/bucket/k");
        String today = signer.sign("GET", url, Map.of()).get("authorization");
        clock.now = clock.now.plusSeconds(24 * 3600);
        assertThat(signer.sign("GET", url, Map.of()).get("authorization"))
                .isNotEqualTo(today)
                .isEqualTo(sdk(KEYS, "eu-west-1", "GET", url, Map.of()).get("authorization"));
    }

    private void assertSignedAsTheSdkDoes(AwsCredentials keys, String method, String url, Map<String, String> headers) {
        URI uri = URI.create(url);
        Map<String, String> ours = new SigV4("us-east-1", StaticCredentialsProvider.create(keys), clock)
                .sign(method, uri, headers);
        Map<String, String> theirs = sdk(keys, "us-east-1", method, uri, headers);
        for (String name : new String[] {"authorization", "x-amz-date", "x-amz-content-sha256"}) {
            assertThat(ours.get(name)).as(name).isNotNull().isEqualTo(theirs.get(name));
        }
        assertThat(ours.get("x-amz-security-token")).isEqualTo(theirs.get("x-amz-security-token"));
        assertThat(ours).doesNotContainKey("host"); // the HTTP client sets it from the URL
    }

    /** The SDK's signature of the same request, its payload unsigned, header names in lower case. */
    private Map<String, String> sdk(AwsCredentials keys, String region, String method, URI uri,
            Map<String, String> headers) {
        SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
        headers.forEach(request::putHeader);
        var signed = AwsV4HttpSigner.create().sign(r -> r.identity(keys)
                .request(request.build())
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, clock)
                .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false));
        Map<String, String> out = new TreeMap<>();
        signed.request().forEachHeader((name, values) -> out.put(name.toLowerCase(Locale.ROOT), values.get(0)));
        return new LinkedHashMap<>(out);
    }
}
