package ferry.s3;

import ferry.store.StoreException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;

/**
 * Resolves endpoint, region and credentials from environment variables and the AWS profile files they point to, the
 * way the AWS CLI does, but from a given map rather than the process environment (so tests can inject one), and
 * without the SDK's default chains, which would ask the instance metadata service even where it must not be asked.
 */
final class AwsEnvironment {
    /** Profile properties that make the SDK's profile provider produce credentials other than static keys. */
    private static final List<String> OTHER_CREDENTIAL_SOURCES = List.of(
            "role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file");

    private final Map<String, String> environment;
    private ProfileFile profiles;

    AwsEnvironment(Map<String, String> environment) {
        this.environment = environment;
    }

    record Credentials(AwsCredentialsProvider provider, String source) {}

    /** A variable's value, or null when it is absent or blank. */
    static String get(Map<String, String> environment, String name) {
        String value = environment.get(name);
        return value == null || value.isBlank() ? null : value.trim();
    }

    private String get(String name) {
        return get(environment, name);
    }

    /**
     * {@code AWS_ENDPOINT_URL_S3}, else {@code AWS_ENDPOINT_URL}, else the profile's {@code endpoint_url}, as the AWS
     * CLI and SDKs read them; none when {@code AWS_IGNORE_CONFIGURED_ENDPOINT_URLS} (or the profile's
     * {@code ignore_configured_endpoint_urls}) is true.
     */
    URI endpoint() throws StoreException {
        if (ignoreConfiguredEndpoints()) {
            return null;
        }
        for (String name : List.of("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")) {
            String value = get(name);
            if (value != null) {
                return endpoint(value, name);
            }
        }
        String name = profileName();
        Optional<String> configured = profiles().profile(name).flatMap(p -> p.property("endpoint_url"))
                .filter(value -> !value.isBlank());
        return configured.isEmpty() ? null
                : endpoint(configured.get().trim(), "endpoint_url of profile '" + name + "' in " + profileFilesText());
    }

    private static URI endpoint(String value, String source) {
        try {
            URI uri = new URI(value);
            if (uri.getPort() > 65_535) {
                throw new IllegalArgumentException(source + " names port " + uri.getPort() + ", which does not exist"
                        + " (ports go up to 65535): '" + value + "'");
            }
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                source + " must be an http:// or https:// URL such as http://127.0.0.1:9000, not '" + value + "'");
    }

    private boolean ignoreConfiguredEndpoints() throws StoreException {
        String value = get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
        if (value == null) {
            value = profiles().profile(profileName()).flatMap(p -> p.property("ignore_configured_endpoint_urls"))
                    .orElse(null);
        }
        return value != null && value.trim().equalsIgnoreCase("true");
    }

    /**
     * {@code AWS_CA_BUNDLE}, else the profile's {@code ca_bundle}, read; null when neither is set, or when the
     * endpoint is plain http and no certificate will be checked (many machines set {@code AWS_CA_BUNDLE} to the
     * system's bundle of 150 authorities, not worth reading then).
     */
    CaBundle caBundle(URI endpoint) throws StoreException {
        if (endpoint != null && "http".equals(endpoint.getScheme())) {
            return null;
        }
        String value = get("AWS_CA_BUNDLE");
        if (value != null) {
            return CaBundle.read(Path.of(value), "AWS_CA_BUNDLE");
        }
        String name = profileName();
        Optional<String> configured = profiles().profile(name).flatMap(p -> p.property("ca_bundle"));
        return configured.isEmpty() ? null
                : CaBundle.read(Path.of(configured.get()), "ca_bundle of profile '" + name + "' in "
                        + profileFilesText());
    }

    String region() throws StoreException {
        for (String name : List.of("AWS_REGION", "AWS_DEFAULT_REGION")) {
            String value = get(name);
            if (value != null) {
                return value;
            }
        }
        return profiles().profile(profileName()).flatMap(p -> p.property("region")).orElse("us-east-1");
    }

    Credentials credentials() throws StoreException {
        String id = get("AWS_ACCESS_KEY_ID");
        String secret = get("AWS_SECRET_ACCESS_KEY");
        String token = get("AWS_SESSION_TOKEN");
        if (id != null || secret != null) {
            if (id == null || secret == null) {
                throw new StoreException(null, (id == null ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                                : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
                        + ": set both (with AWS_SESSION_TOKEN for temporary credentials), or neither to use profile '"
                        + profileName() + "' from " + profileFilesText());
            }
            AwsCredentials credentials = token == null
                    ? AwsBasicCredentials.create(id, secret)
                    : AwsSessionCredentials.create(id, secret, token);
            return new Credentials(StaticCredentialsProvider.create(credentials),
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" + (token == null ? "" : " and AWS_SESSION_TOKEN")
                            + " in the environment");
        }

        String name = profileName();
        Optional<Profile> profile = profiles().profile(name);
        if (profile.isPresent()) {
            Optional<String> profileId = profile.get().property("aws_access_key_id");
            Optional<String> profileSecret = profile.get().property("aws_secret_access_key");
            String source = "profile '" + name + "' in " + profileFilesText();
            if (profileId.isPresent() && profileSecret.isPresent()) {
                Optional<String> profileToken = profile.get().property("aws_session_token");
                AwsCredentials credentials = profileToken.isEmpty()
                        ? AwsBasicCredentials.create(profileId.get(), profileSecret.get())
                        : AwsSessionCredentials.create(profileId.get(), profileSecret.get(), profileToken.get());
                return new Credentials(StaticCredentialsProvider.create(credentials), source);
            }
            if (profileId.isPresent() || profileSecret.isPresent()) {
                throw new StoreException(null, source + " has only one of aws_access_key_id and aws_secret_access_key:"
                        + " add the other");
            }
            if (OTHER_CREDENTIAL_SOURCES.stream().anyMatch(key -> profile.get().property(key).isPresent())) {
                ProfileCredentialsProvider provider = ProfileCredentialsProvider.builder()
                        .profileFile(profiles())
                        .profileName(name)
                        .build();
                return new Credentials(provider, source);
            }
        }
        if (get("AWS_PROFILE") != null) {
            throw new StoreException(null, "AWS_PROFILE names profile '" + name + "', which has no credentials in "
                    + profileFilesText() + ": add aws_access_key_id and aws_secret_access_key to it, or unset AWS_PROFILE");
        }

        if (!metadataDisabled()) {
            List<AwsCredentialsProvider> providers = new ArrayList<>();
            if (get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != null
                    || get("AWS_CONTAINER_CREDENTIALS_FULL_URI") != null) {
                providers.add(ContainerCredentialsProvider.builder().build());
            }
            providers.add(InstanceProfileCredentialsProvider.builder().build());
            return new Credentials(
                    AwsCredentialsProviderChain.builder().credentialsProviders(providers).build(),
                    "container or EC2 instance metadata credentials (no keys in the environment or profile '"
                            + name + "' in " + profileFilesText() + ")");
        }
        throw new StoreException(null, "no credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                + " (and AWS_SESSION_TOKEN for temporary credentials), or add aws_access_key_id and"
                + " aws_secret_access_key to profile '" + name + "' in " + profileFilesText()
                + ", or name another profile with AWS_PROFILE; container and instance credentials were not tried"
                + " because AWS_EC2_METADATA_DISABLED=true");
    }

    boolean metadataDisabled() {
        String value = get("AWS_EC2_METADATA_DISABLED");
        return value != null && value.toLowerCase(Locale.ROOT).equals("true");
    }

    private String profileName() {
        String name = get("AWS_PROFILE");
        return name == null ? "default" : name;
    }

    private Path credentialsFile() {
        return file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    }

    private Path configFile() {
        return file("AWS_CONFIG_FILE", "config");
    }

    private Path file(String variable, String defaultName) {
        String value = get(variable);
        if (value == null) {
            return home().resolve(".aws").resolve(defaultName);
        }
        if (value.equals("~") || value.startsWith("~/")) {
            return home().resolve(value.substring(Math.min(2, value.length())));
        }
        return Path.of(value);
    }

    private Path home() {
        String home = get("HOME");
        return Path.of(home != null ? home : System.getProperty("user.home"));
    }

    private String profileFilesText() {
        return credentialsFile() + " (AWS_SHARED_CREDENTIALS_FILE) or " + configFile() + " (AWS_CONFIG_FILE)";
    }

    /** Both profile files merged, as the AWS CLI reads them; files that do not exist are skipped. */
    private ProfileFile profiles() throws StoreException {
        if (profiles == null) {
            ProfileFile.Aggregator aggregator = ProfileFile.aggregator();
            addIfPresent(aggregator, configFile(), ProfileFile.Type.CONFIGURATION);
            addIfPresent(aggregator, credentialsFile(), ProfileFile.Type.CREDENTIALS);
            profiles = aggregator.build();
        }
        return profiles;
    }

    private static void addIfPresent(ProfileFile.Aggregator aggregator, Path file, ProfileFile.Type type)
            throws StoreException {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            aggregator.addFile(ProfileFile.builder().content(file).type(type).build());
        } catch (RuntimeException e) {
            throw new StoreException(null, "cannot read the AWS profile file " + file + ": " + e.getMessage(), e);
        }
    }
}
