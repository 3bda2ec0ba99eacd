package ferry.s3;

import ferry.store.StoreException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;

/**
 * How Ferry reaches an S3-compatible store: an immutable value read once from environment variables by
 * {@link #fromEnvironment}, following the AWS conventions so that AWS, MinIO and Ceph RGW are configured alike.
 *
 * <table>
 *   <caption>Variables read (from the given map only, never from the process directly)</caption>
 *   <tr><td>{@code AWS_ENDPOINT_URL_S3}, {@code AWS_ENDPOINT_URL}</td><td>a custom endpoint, else the profile's
 *       {@code endpoint_url}; AWS when none (or {@code AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true})</td></tr>
 *   <tr><td>{@code AWS_CA_BUNDLE}</td><td>else the profile's {@code ca_bundle}: a PEM file of the certificate
 *       authorities to trust over https instead of the defaults (not read for an http endpoint)</td></tr>
 *   <tr><td>{@code FERRY_S3_PATH_STYLE}</td><td>{@code true|false}; default: path style with a custom endpoint</td></tr>
 *   <tr><td>{@code AWS_REGION}, {@code AWS_DEFAULT_REGION}</td><td>else the profile's region, else us-east-1</td></tr>
 *   <tr><td>{@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_SESSION_TOKEN}</td>
 *       <td>else the profile {@code AWS_PROFILE} (default "default") in {@code AWS_SHARED_CREDENTIALS_FILE} /
 *       {@code AWS_CONFIG_FILE} (default {@code ~/.aws/credentials}, {@code ~/.aws/config}, home from
 *       {@code HOME}), else container or instance credentials unless {@code AWS_EC2_METADATA_DISABLED=true}</td></tr>
 *   <tr><td>{@code AWS_REQUEST_CHECKSUM_CALCULATION}, {@code AWS_RESPONSE_CHECKSUM_VALIDATION}</td>
 *       <td>{@code when_required} (default: Ferry keeps its own CRC32C, and many S3-compatible servers refuse the
 *       SDK's default checksums) or {@code when_supported}</td></tr>
 *   <tr><td>{@code FERRY_S3_PART_SIZE}</td><td>multipart part size, such as {@code 16MiB}; default 8 MiB</td></tr>
 * </table>
 *
 * @param endpoint a custom endpoint such as {@code http://127.0.0.1:9000}, or {@code null} for AWS
 * @param caBundle the certificate authorities to trust instead of the defaults, or {@code null}
 * @param region the signing region
 * @param pathStyle address buckets as {@code endpoint/bucket/key} rather than {@code bucket.endpoint/key}
 * @param credentials where request signatures get their keys; never printed
 * @param credentialsSource where the credentials come from, for error messages (never the keys themselves)
 * @param requestChecksumCalculation when the SDK adds its own checksums to requests
 * @param responseChecksumValidation when the SDK checks checksums of responses
 * @param partSize bytes per multipart part, 5 MiB to 1 GiB; objects up to this size are written with one request
 * @param partsInFlight parts of one object uploaded at once, which bounds a writer's memory to about
 *     {@code (partsInFlight + 1) * partSize}
 * @param maxConcurrency connections to the endpoint, shared by every caller of the store
 * @param connectTimeout how long to wait for a TCP connection
 * @param attemptTimeout how long one attempt of one request may take before it is abandoned and retried (the body of
 *     a streamed read excepted); a stalled server becomes an error, not a hang
 * @param maxAttempts attempts per request, with the SDK's standard exponential back-off in between
 */
public record S3Config(
        URI endpoint,
        CaBundle caBundle,
        String region,
        boolean pathStyle,
        AwsCredentialsProvider credentials,
        String credentialsSource,
        RequestChecksumCalculation requestChecksumCalculation,
        ResponseChecksumValidation responseChecksumValidation,
        int partSize,
        int partsInFlight,
        int maxConcurrency,
        Duration connectTimeout,
        Duration attemptTimeout,
        int maxAttempts) {
    public static final int MIN_PART_SIZE = 5 << 20;
    public static final int MAX_PART_SIZE = 1 << 30;
    public static final int DEFAULT_PART_SIZE = 8 << 20;

    public S3Config {
        if (endpoint != null) {
            String scheme = endpoint.getScheme();
            if (!"http".equals(scheme) && !"https".equals(scheme) || endpoint.getHost() == null) {
                throw new IllegalArgumentException(
                        "endpoint must be an http:// or https:// URL with a host, such as http://127.0.0.1:9000: "
                                + endpoint);
            }
        }
        Objects.requireNonNull(region, "region is null");
        if (region.isBlank()) {
            throw new IllegalArgumentException("region is blank");
        }
        Objects.requireNonNull(credentials, "credentials is null");
        Objects.requireNonNull(credentialsSource, "credentialsSource is null");
        Objects.requireNonNull(requestChecksumCalculation, "requestChecksumCalculation is null");
        Objects.requireNonNull(responseChecksumValidation, "responseChecksumValidation is null");
        if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
            throw new IllegalArgumentException("partSize must be between 5 MiB (S3's smallest part) and 1 GiB: "
                    + partSize);
        }
        if (partsInFlight < 1) {
            throw new IllegalArgumentException("partsInFlight must be at least 1: " + partsInFlight);
        }
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("maxConcurrency must be at least 1: " + maxConcurrency);
        }
        requirePositive(connectTimeout, "connectTimeout");
        requirePositive(attemptTimeout, "attemptTimeout");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
    }

    private static void requirePositive(Duration duration, String name) {
        Objects.requireNonNull(duration, name + " is null");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + duration);
        }
    }

    /**
     * Reads the configuration from environment variables (the process environment, or a test's stand-in).
     *
     * @throws StoreException if no credentials can be found; the message lists the variables and files to set
     * @throws IllegalArgumentException naming the variable whose value is malformed
     */
    public static S3Config fromEnvironment(Map<String, String> environment) throws StoreException {
        Objects.requireNonNull(environment, "environment is null");
        AwsEnvironment aws = new AwsEnvironment(environment);
        URI endpoint = aws.endpoint();
        AwsEnvironment.Credentials credentials = aws.credentials();
        return new S3Config(
                endpoint,
                aws.caBundle(endpoint),
                aws.region(),
                parseBoolean(environment, "FERRY_S3_PATH_STYLE", endpoint != null),
                credentials.provider(),
                credentials.source(),
                parseEnum(environment, "AWS_REQUEST_CHECKSUM_CALCULATION", RequestChecksumCalculation.class,
                        RequestChecksumCalculation.WHEN_REQUIRED),
                parseEnum(environment, "AWS_RESPONSE_CHECKSUM_VALIDATION", ResponseChecksumValidation.class,
                        ResponseChecksumValidation.WHEN_REQUIRED),
                parseSize(environment, "FERRY_S3_PART_SIZE", DEFAULT_PART_SIZE),
                4,
                128,
                Duration.ofSeconds(5),
                Duration.ofSeconds(60),
                4);
    }

    /** A copy with another part size. */
    public S3Config withPartSize(int partSize) {
        return new S3Config(endpoint, caBundle, region, pathStyle, credentials, credentialsSource,
                requestChecksumCalculation, responseChecksumValidation, partSize, partsInFlight, maxConcurrency,
                connectTimeout, attemptTimeout, maxAttempts);
    }

    /** A copy with other limits on how long and how often a request is tried. */
    public S3Config withRetries(Duration attemptTimeout, int maxAttempts) {
        return new S3Config(endpoint, caBundle, region, pathStyle, credentials, credentialsSource,
                requestChecksumCalculation, responseChecksumValidation, partSize, partsInFlight, maxConcurrency,
                connectTimeout, attemptTimeout, maxAttempts);
    }

    /**
     * How long a connection may move no bytes before it is dropped: the attempt timeout, within 2 to 30 s (the CRT
     * client measures throughput over whole seconds).
     */
    Duration idleTimeout() {
        return Duration.ofSeconds(Math.clamp(attemptTimeout.toSeconds(), 2, 30));
    }

    /** The endpoint as users know it, for messages: the custom one, or AWS's for the region. */
    String endpointText() {
        return endpoint != null ? endpoint.toString() : "https://s3." + region + ".amazonaws.com";
    }

    /** Names every setting but the credentials themselves. */
    @Override
    public String toString() {
        return "S3Config[endpoint=" + endpointText() + (caBundle == null ? "" : ", caBundle=" + caBundle)
                + ", region=" + region + ", pathStyle=" + pathStyle + ", credentials from " + credentialsSource
                + ", requestChecksumCalculation=" + requestChecksumCalculation
                + ", responseChecksumValidation=" + responseChecksumValidation
                + ", partSize=" + partSize + ", partsInFlight=" + partsInFlight + ", maxConcurrency=" + maxConcurrency
                + ", connectTimeout=" + connectTimeout + ", attemptTimeout=" + attemptTimeout + ", maxAttempts="
                + maxAttempts + "]";
    }

    private static boolean parseBoolean(Map<String, String> environment, String name, boolean otherwise) {
        String value = AwsEnvironment.get(environment, name);
        if (value == null) {
            return otherwise;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " must be true or false, not '" + value + "'");
        };
    }

    private static <E extends Enum<E>> E parseEnum(
            Map<String, String> environment, String name, Class<E> type, E otherwise) {
        String value = AwsEnvironment.get(environment, name);
        if (value == null) {
            return otherwise;
        }
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    name + " must be when_required or when_supported, not '" + value + "'", e);
        }
    }

    /** Bytes, optionally with a binary unit: {@code 8388608}, {@code 8MiB}, {@code 8M}, {@code 1GiB}. */
    static int parseSize(Map<String, String> environment, String name, int otherwise) {
        String value = AwsEnvironment.get(environment, name);
        if (value == null) {
            return otherwise;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,10})\\s*([KMG]?)(i?B)?")
                .matcher(value.trim().toUpperCase(Locale.ROOT).replace("IB", "iB"));
        if (!m.matches()) {
            throw new IllegalArgumentException(name + " must be a size such as 16MiB or 16777216, not '" + value + "'");
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 0;
        };
        long number = Long.parseLong(m.group(1));
        long bytes = number > (MAX_PART_SIZE >> shift) ? Long.MAX_VALUE : number << shift;
        if (bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE) {
            throw new IllegalArgumentException(name + " must be between 5MiB and 1GiB, not '" + value + "'");
        }
        return (int) bytes;
    }
}
