package ferry.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.store.StoreException;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** Reading the S3 configuration from environment variables and profile files; no network. */
class S3ConfigTest {
    @TempDir
    Path home;

    /** Keys, no metadata service, and a HOME without profile files, plus {@code extra} (a null value removes). */
    private Map<String, String> environment(String... extra) {
        Map<String, String> environment = new HashMap<>(Map.of(
                "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY", "secret-never-shown",
                "AWS_EC2_METADATA_DISABLED", "true",
                "HOME", home.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            if (extra[i + 1] == null) {
                environment.remove(extra[i]);
            } else {
                environment.put(extra[i], extra[i + 1]);
            }
        }
        return environment;
    }

    @Test
    void defaults_are_aws_in_us_east_1_with_virtual_hosts_and_checksums_only_when_required() throws StoreException {
        S3Config config = S3Config.fromEnvironment(environment());

        assertThat(config.endpoint()).isNull();
        assertThat(config.endpointText()).isEqualTo("https://s3.us-east-1.amazonaws.com");
        assertThat(config.region()).isEqualTo("us-east-1");
        assertThat(config.pathStyle()).isFalse();
        assertThat(config.requestChecksumCalculation()).isEqualTo(RequestChecksumCalculation.WHEN_REQUIRED);
        assertThat(config.responseChecksumValidation()).isEqualTo(ResponseChecksumValidation.WHEN_REQUIRED);
        assertThat(config.partSize()).isEqualTo(8 << 20);
        assertThat(config.connectTimeout()).hasSeconds(5);
    }

    @Test
    void custom_endpoint_uses_path_style_unless_told_otherwise_and_the_s3_specific_variable_wins()
            throws StoreException {
        S3Config custom = S3Config.fromEnvironment(environment("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"));
        assertThat(custom.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(custom.pathStyle()).isTrue();

        S3Config virtualHosts = S3Config.fromEnvironment(
                environment("AWS_ENDPOINT_URL", "http://127.0.0.1:9000", "FERRY_S3_PATH_STYLE", "false"));
        assertThat(virtualHosts.pathStyle()).isFalse();

        S3Config specific = S3Config.fromEnvironment(environment(
                "AWS_ENDPOINT_URL", "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3", "https://s3.example.com"));
        assertThat(specific.endpoint()).isEqualTo(URI.create("https://s3.example.com"));
    }

    @Test
    void region_comes_from_aws_region_then_aws_default_region_then_the_profile() throws IOException {
        Files.createDirectories(home.resolve(".aws"));
        Files.writeString(home.resolve(".aws/config"), "[default]\nregion = ap-south-1\n");

        assertThat(S3Config.fromEnvironment(environment()).region()).isEqualTo("ap-south-1");
        assertThat(S3Config.fromEnvironment(environment("AWS_DEFAULT_REGION", "eu-west-1")).region())
                .isEqualTo("eu-west-1");
        assertThat(S3Config.fromEnvironment(
                        environment("AWS_DEFAULT_REGION", "eu-west-1", "AWS_REGION", "eu-north-1"))
                .region())
                .isEqualTo("eu-north-1");
    }

    @Test
    void the_ca_bundle_comes_from_aws_ca_bundle_then_the_profile_and_is_read_only_for_https() throws IOException {
        Path pem = home.resolve("ca.pem");
        try (S3TestServer server = S3TestServer.builder().tls().start()) {
            Files.copy(server.certificate(), pem);
        }
        Files.createDirectories(home.resolve(".aws"));
        Files.writeString(home.resolve(".aws/config"), "[default]\nca_bundle = " + pem + "\n");
        String https = "https://s3.example.com";

        CaBundle fromVariable = S3Config.fromEnvironment(
                environment("AWS_ENDPOINT_URL", https, "AWS_CA_BUNDLE", pem.toString())).caBundle();
        assertThat(fromVariable.source()).isEqualTo("AWS_CA_BUNDLE");
        assertThat(fromVariable.certificates()).singleElement()
                .satisfies(c -> assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=127.0.0.1"));
        CaBundle fromProfile = S3Config.fromEnvironment(environment("AWS_ENDPOINT_URL", https)).caBundle();
        assertThat(fromProfile.file()).isEqualTo(pem);
        assertThat(fromProfile.source()).startsWith("ca_bundle of profile 'default'");
        assertThat(S3Config.fromEnvironment(environment()).caBundle()).as("AWS itself, over https").isNotNull();

        Map<String, String> missing = environment("AWS_CA_BUNDLE", home.resolve("missing.pem").toString());
        assertThat(S3Config.fromEnvironment(with(missing, "AWS_ENDPOINT_URL", "http://127.0.0.1:9000")).caBundle())
                .as("no certificate to check over http").isNull();
        assertThatThrownBy(() -> S3Config.fromEnvironment(with(missing, "AWS_ENDPOINT_URL", https)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("AWS_CA_BUNDLE names " + home.resolve("missing.pem") + ", which cannot be read");
    }

    private static Map<String, String> with(Map<String, String> environment, String name, String value) {
        Map<String, String> copy = new HashMap<>(environment);
        copy.put(name, value);
        return copy;
    }

    @Test
    void profile_files_named_by_variables_are_read_instead_of_those_under_home() throws IOException {
        Path credentials = Files.writeString(home.resolve("creds.ini"),
                "[ci]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = from-file\n");
        Path config = Files.writeString(home.resolve("config.ini"), "[profile ci]\nregion = sa-east-1\n");

        S3Config fromFiles = S3Config.fromEnvironment(environment(
                "AWS_ACCESS_KEY_ID", null,
                "AWS_SECRET_ACCESS_KEY", null,
                "AWS_PROFILE", "ci",
                "AWS_SHARED_CREDENTIALS_FILE", credentials.toString(),
                "AWS_CONFIG_FILE", config.toString()));

        assertThat(fromFiles.region()).isEqualTo("sa-east-1");
        assertThat(fromFiles.credentials().resolveCredentials().accessKeyId()).isEqualTo("AKIDFROMFILE");
        assertThat(fromFiles.credentialsSource()).contains("profile 'ci'").contains(credentials.toString());
    }

    @Test
    void session_token_is_used_and_nothing_secret_is_printed() throws StoreException {
        S3Config config = S3Config.fromEnvironment(environment("AWS_SESSION_TOKEN", "token-never-shown"));

        assertThat(config.credentials().resolveCredentials()).isInstanceOf(AwsSessionCredentials.class);
        assertThat(config.toString())
                .contains("AWS_SESSION_TOKEN")
                .doesNotContain("secret-never-shown")
                .doesNotContain("token-never-shown");
    }

    @Test
    void only_one_of_the_two_keys_is_an_error_that_names_the_missing_one() {
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("AWS_SECRET_ACCESS_KEY", null)))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("AWS_SECRET_ACCESS_KEY is not");
    }

    @Test
    void without_keys_or_profile_instance_credentials_are_tried_only_when_metadata_is_not_disabled()
            throws StoreException {
        S3Config config = S3Config.fromEnvironment(environment(
                "AWS_ACCESS_KEY_ID", null, "AWS_SECRET_ACCESS_KEY", null, "AWS_EC2_METADATA_DISABLED", null));
        // Resolved lazily, at the first request: nothing is asked here.
        assertThat(config.credentialsSource()).contains("instance metadata");

        assertThatThrownBy(() -> S3Config.fromEnvironment(
                        environment("AWS_ACCESS_KEY_ID", null, "AWS_SECRET_ACCESS_KEY", null)))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("AWS_EC2_METADATA_DISABLED=true");
    }

    @Test
    void the_client_takes_its_endpoint_from_the_given_map_not_from_the_process_environment() throws StoreException {
        // The build sets AWS_ENDPOINT_URL for the test process; the SDK on its own would use it.
        assertThat(System.getenv("AWS_ENDPOINT_URL")).isNotNull();
        try (S3AsyncClient plain = S3AsyncClient.builder()
                .region(Region.US_EAST_1)
                .credentialsProvider(AnonymousCredentialsProvider.create())
                .build()) {
            assertThat(plain.serviceClientConfiguration().endpointOverride()).isPresent();
        }

        try (S3Store store = new S3Store(S3Config.fromEnvironment(environment()))) {
            assertThat(store.client().serviceClientConfiguration().endpointOverride()).isEmpty();
        }
    }

    @Test
    void malformed_values_are_refused_naming_the_variable() {
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("AWS_ENDPOINT_URL", "localhost:9000")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("AWS_ENDPOINT_URL");
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("AWS_ENDPOINT_URL", "http://127.0.0.1:99999")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AWS_ENDPOINT_URL")
                .hasMessageContaining("port 99999");
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("FERRY_S3_PATH_STYLE", "yes")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FERRY_S3_PATH_STYLE");
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("AWS_REQUEST_CHECKSUM_CALCULATION", "never")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("AWS_REQUEST_CHECKSUM_CALCULATION");
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("FERRY_S3_PART_SIZE", "1MiB")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FERRY_S3_PART_SIZE");
        assertThatThrownBy(() -> S3Config.fromEnvironment(environment("FERRY_S3_PART_SIZE", "99999999999G")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FERRY_S3_PART_SIZE");
    }

    @Test
    void part_size_and_checksum_settings_are_read() throws StoreException {
        S3Config config = S3Config.fromEnvironment(environment(
                "FERRY_S3_PART_SIZE", "16MiB",
                "AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_SUPPORTED",
                "AWS_RESPONSE_CHECKSUM_VALIDATION", "when_supported"));

        assertThat(config.partSize()).isEqualTo(16 << 20);
        assertThat(config.requestChecksumCalculation()).isEqualTo(RequestChecksumCalculation.WHEN_SUPPORTED);
        assertThat(config.responseChecksumValidation()).isEqualTo(ResponseChecksumValidation.WHEN_SUPPORTED);
        assertThat(S3Config.fromEnvironment(environment("FERRY_S3_PART_SIZE", "5242880")).partSize())
                .isEqualTo(5 << 20);
    }
}
