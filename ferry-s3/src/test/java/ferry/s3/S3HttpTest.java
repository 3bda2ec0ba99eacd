package ferry.s3;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.Location;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How {@link S3Http} addresses objects; its requests are tested against servers in the store's tests. */
class S3HttpTest {
    private static S3Http http(String endpoint, boolean pathStyle) throws Exception {
        return new S3Http(S3Config.fromEnvironment(Map.of(
                "AWS_ENDPOINT_URL", endpoint,
                "FERRY_S3_PATH_STYLE", String.valueOf(pathStyle),
                "AWS_ACCESS_KEY_ID", "key",
                "AWS_SECRET_ACCESS_KEY", "secret",
                "AWS_REGION", "us-east-1")));
    }

    @Test
    void keys_are_percent_encoded_as_utf8_except_unreserved_characters_and_slashes() {
        assertThat(S3Http.encodePath("a b/c+d%e?f#g/été~-_.")).isEqualTo("a%20b/c%2Bd%25e%3Ff%23g/%C3%A9t%C3%A9~-_.");
    }

    @Test
    void path_style_puts_the_bucket_in_the_path_and_drops_a_default_port() throws Exception {
        try (S3Http http = http("https://s3.example.com:443/", true)) {
            assertThat(http.url(Location.of("s3://bucket/a b/c")))
                    .isEqualTo(URI.create("https://s3.example.com/bucket/a%20b/c"));
        }
        try (S3Http http = http("http://127.0.0.1:9000", true)) {
            assertThat(http.url(Location.of("s3://bucket/k"))).isEqualTo(URI.create("http://127.0.0.1:9000/bucket/k"));
        }
    }

    @Test
    void virtual_host_style_puts_the_bucket_in_the_host() throws Exception {
        try (S3Http http = http("http://minio.local:9000", false)) {
            assertThat(http.url(Location.of("s3://bucket/k/v")))
                    .isEqualTo(URI.create("http://bucket.minio.local:9000/k/v"));
        }
    }
}
