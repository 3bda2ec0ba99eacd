package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;

import ferry.checksum.Digests;
import ferry.store.Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The requests of many-small-object work (GetObject, HeadObject, ListObjectsV2, and PutObject of bytes in memory)
 * sent over the JDK's HTTP client and signed by {@link SigV4}, past the SDK's per-request pipeline
 * (interceptors, marshalling, endpoint rules, futures), which costs more CPU than the request itself when objects are
 * small: on 20,000 objects of 8 KiB from the loopback server this path fetched about 8,500 objects/s at 0.12 ms of
 * CPU each, where the SDK's asynchronous client fetched 3,400-4,100/s at 0.37 ms (bench/RESULTS.md).
 *
 * <p>Only for a custom endpoint (MinIO, Ceph RGW, s3proxy...), whose URLs are fixed: against AWS itself the SDK, which
 * knows its regions and endpoint rules, sends every request, as it does when the SDK's checksums are asked for.
 * Failures are what the SDK would throw: an {@link S3Exception} carrying the status and the error's code for an
 * answer, an {@link IOException} for the connection, so that {@link S3Errors} maps both alike. Retries follow the
 * SDK's standard strategy in short: answers 5xx, 429 and throttling codes, and failed connections, up to
 * {@link S3Config#maxAttempts()} attempts with exponential back-off and full jitter.
 */
final class S3Http implements AutoCloseable {
    private static final Set<String> RETRIED_CODES = Set.of("SlowDown", "Throttling", "ThrottlingException",
            "RequestTimeout", "InternalError", "ServiceUnavailable");
    private static final Duration BASE_DELAY = Duration.ofMillis(100);
    private static final Duration MAX_DELAY = Duration.ofSeconds(20);

    static {
        // The JDK's client reads the socket into buffers of this size (16 KiB by default), before its first use: with
        // 256 KiB a 1 GiB download in 8 objects took 1.7-1.8 s instead of 2.8-3.6 s, small objects unchanged.
        if (System.getProperty("jdk.httpclient.bufsize") == null) {
            System.setProperty("jdk.httpclient.bufsize", String.valueOf(256 * 1024));
        }
    }

    private final S3Config config;
    private final String base;
    private final HttpClient client;
    private final SigV4 signer;
    private final Executor pages =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ferry-s3-list").factory());

    /**
     * Whether this client can send a store's requests: a custom endpoint, and the SDK's own checksums not asked for
     * (this client adds and checks none; Ferry keeps its CRC32C either way).
     */
    static boolean serves(S3Config config) {
        return config.endpoint() != null
                && config.requestChecksumCalculation() == RequestChecksumCalculation.WHEN_REQUIRED
                && config.responseChecksumValidation() == ResponseChecksumValidation.WHEN_REQUIRED;
    }

    S3Http(S3Config config) {
        this.config = config;
        URI endpoint = config.endpoint();
        if (endpoint == null) {
            throw new IllegalArgumentException("S3Http needs a custom endpoint");
        }
        // The signature covers the Host header, which the JDK derives from the URL: leave out a default port, as the
        // signer does.
        int port = endpoint.getPort();
        boolean defaultPort = port == -1 || port == 80 && "http".equals(endpoint.getScheme())
                || port == 443 && "https".equals(endpoint.getScheme());
        String path = endpoint.getRawPath() == null ? "" : endpoint.getRawPath().replaceAll("/+$", "");
        this.base = endpoint.getScheme() + "://" + endpoint.getRawAuthority().replaceAll(":\\d+$", "")
                + (defaultPort ? "" : ":" + port) + path;
        this.signer = new SigV4(config.region(), config.credentials(), Clock.systemUTC());
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                // The client's own steps run where they are triggered (the caller's thread or the selector's) instead
                // of being handed to a pool each time: nothing of Ferry's runs there, and every handoff woke a
                // thread. 20,000 x 8 KiB down took 9.8 s with the pool, 8.4 s without.
                .executor(Runnable::run)
                .build();
    }

    /** The URL of an object: {@code endpoint/bucket/key} in path style, else {@code bucket.endpoint/key}. */
    URI url(Location location) {
        return URI.create(bucketUrl(location.bucket()) + "/" + encodePath(location.path()));
    }

    /** The URL of a bucket, without a trailing slash. */
    private String bucketUrl(String bucket) {
        if (config.pathStyle()) {
            return base + "/" + bucket;
        }
        int hostStart = base.indexOf("://") + 3;
        return base.substring(0, hostStart) + bucket + "." + base.substring(hostStart);
    }

    /**
     * Starts reading an object, or {@code range} of it ({@code bytes=0-99}, or null for all), and returns once its
     * headers are in: status 200 or 206, the body still to be read (a read that waits too long for it fails).
     *
     * @throws S3Exception for any other answer, after the retries
     */
    Read get(Location location, String range) throws IOException {
        Map<String, String> headers = range == null ? Map.of() : Map.of("Range", range);
        HttpResponse<InputStream> response = send("GET", url(location), headers, null, 0, location, "read");
        return new Read(response.headers(), StallGuard.guard(response.body(), config.idleTimeout()));
    }

    /**
     * PutObject of the first {@code length} bytes of {@code body}, with user metadata ({@code x-amz-meta-*}) and, for
     * an exclusive create, {@code If-None-Match: *}. Returns the answer's headers (ETag, Date). The body's MD5 goes
     * with it ({@code Content-MD5}, signed), so the server refuses bytes damaged on the way.
     */
    HttpHeaders put(Location location, byte[] body, int length, Map<String, String> metadata, boolean exclusive)
            throws IOException {
        Map<String, String> headers = new HashMap<>();
        headers.put("Content-MD5", contentMd5(body, length));
        metadata.forEach((name, value) -> headers.put("x-amz-meta-" + name, value));
        if (exclusive) {
            headers.put("If-None-Match", "*");
        }
        HttpResponse<InputStream> response = send("PUT", url(location), headers, body, length, location, "write");
        try (InputStream ignored = response.body()) {
            return response.headers();
        }
    }

    /** The headers of a HeadObject answer: the object's size, ETag, last modification and metadata. */
    HttpHeaders head(Location location) throws IOException {
        return send("HEAD", url(location), Map.of(), null, 0, location, "stat").headers();
    }

    /** Answers normally when the bucket exists (and the credentials may see it). */
    void headBucket(String bucket) throws IOException {
        send("HEAD", URI.create(bucketUrl(bucket) + "/"), Map.of(), null, 0, Location.of("s3://" + bucket + "/"),
                "stat");
    }

    /** The answer to a GetObject: its headers, and its body as it arrives. */
    record Read(HttpHeaders headers, InputStream body) {
    }

    /**
     * One page of ListObjectsV2 under {@code prefix}, fetched on a virtual thread of its own so that a listing can
     * ask for several pages at once.
     *
     * @param delimiter groups keys into common prefixes at this string, or null for a flat listing
     * @param token the continuation token of the previous page, or null for the first
     */
    CompletableFuture<ListPage> list(String bucket, String prefix, String delimiter, int maxKeys, String token) {
        return CompletableFuture.supplyAsync(() -> {
            StringBuilder query = new StringBuilder("list-type=2&prefix=").append(encode(prefix, false))
                    .append("&max-keys=").append(maxKeys).append("&encoding-type=url");
            if (delimiter != null) {
                query.append("&delimiter=").append(encode(delimiter, false));
            }
            if (token != null) {
                query.append("&continuation-token=").append(encode(token, false));
            }
            try {
                Location where = Location.of("s3://" + bucket + "/");
                URI url = URI.create(bucketUrl(bucket) + "/?" + query);
                HttpResponse<InputStream> response = send("GET", url, Map.of(), null, 0, where, "list");
                try (InputStream body = StallGuard.guard(response.body(), config.idleTimeout())) {
                    return ListPage.parse(body);
                }
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, pages);
    }

    /**
     * Sends a request with the first {@code length} bytes of {@code body} as its payload (none when null), trying
     * again as the class says, until an answer 200 or 206 whose body is still to be read.
     */
    private HttpResponse<InputStream> send(String method, URI url, Map<String, String> headers, byte[] body,
            int length, Location location, String action) throws IOException {
        for (int attempt = 1; ; attempt++) {
            HttpResponse<InputStream> response;
            try {
                response = client.send(request(method, url, headers, body, length),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while trying to " + action + " " + location);
            } catch (IOException e) {
                if (attempt >= config.maxAttempts()) {
                    throw e;
                }
                pause(attempt, location, action);
                continue;
            }
            int status = response.statusCode();
            if (status == 200 || status == 206) {
                return response;
            }
            S3Exception failure = failure(response);
            if (attempt >= config.maxAttempts() || !retried(failure)) {
                throw failure;
            }
            pause(attempt, location, action);
        }
    }

    /** The request with its signature, made anew for each attempt. */
    private HttpRequest request(String method, URI url, Map<String, String> headers, byte[] body, int length) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(url)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body, 0, length))
                .timeout(config.attemptTimeout());
        signer.sign(method, url, headers).forEach(builder::header);
        return builder.build();
    }

    /** The base64 of the MD5 of the first {@code length} bytes of {@code body}. */
    static String contentMd5(byte[] body, int length) {
        MessageDigest md5 = Digests.md5();
        md5.update(body, 0, length);
        return Base64.getEncoder().encodeToString(md5.digest());
    }

    private static boolean retried(S3Exception failure) {
        int status = failure.statusCode();
        return status >= 500 || status == 429 || RETRIED_CODES.contains(S3Errors.errorCode(failure));
    }

    /** Waits before attempt {@code attempt + 1}: full jitter over an exponentially growing ceiling. */
    private static void pause(int attempt, Location location, String action) throws InterruptedIOException {
        long ceiling = Math.min(MAX_DELAY.toMillis(), BASE_DELAY.toMillis() << Math.min(attempt - 1, 20));
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(ceiling + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to " + action + " " + location + " again");
        }
    }

    /** The error an answer other than success carries: its status, and the code and message of its XML body. */
    private static S3Exception failure(HttpResponse<InputStream> response) throws IOException {
        String body;
        try (InputStream in = response.body()) {
            body = new String(in.readNBytes(64 * 1024), UTF_8);
        }
        String code = response.headers().firstValue("x-amz-error-code").orElse("");
        String message = "";
        try {
            XMLStreamReader xml = ListPage.XML.createXMLStreamReader(new StringReader(body));
            while (xml.hasNext()) {
                if (xml.next() == XMLStreamReader.START_ELEMENT) {
                    switch (xml.getLocalName()) {
                        case "Code" -> code = xml.getElementText().strip();
                        case "Message" -> message = xml.getElementText().strip();
                        default -> { }
                    }
                }
            }
        } catch (XMLStreamException e) {
            // no XML (a HEAD-like answer, or a proxy's page): the status says enough
        }
        return (S3Exception) S3Exception.builder()
                .statusCode(response.statusCode())
                .message(response.statusCode() + (code.isEmpty() ? "" : " " + code)
                        + (message.isEmpty() ? "" : ": " + message))
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).serviceName("S3")
                        .build())
                .build();
    }

    /** Closes the connections; requests under way fail. */
    @Override
    public void close() {
        client.shutdownNow();
    }

    /** A key as a URL path: UTF-8, every byte but unreserved characters and {@code /} percent-encoded. */
    static String encodePath(String key) {
        return encode(key, true);
    }

    /** UTF-8, every byte but unreserved characters (and {@code /} when kept) percent-encoded, as SigV4 wants. */
    private static String encode(String text, boolean keepSlash) {
        byte[] bytes = text.getBytes(UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
                    || c == '.' || c == '~' || c == '/' && keepSlash) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
