package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;

import ferry.checksum.Digests;
import ferry.store.Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.StringReader;
import java.net.HttpURLConnection;
import java.net.Proxy;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The requests of many-small-object work (GetObject, HeadObject, ListObjectsV2, and PutObject of bytes in memory)
 * sent over the JDK's HTTP clients (see {@link #exchange} for which) and signed by {@link SigV4}, past the SDK's
 * per-request pipeline (interceptors, marshalling, endpoint rules, futures), which costs more CPU than the request
 * itself when objects are small: a test program fetching 20,000 objects of 8 KiB from the loopback server, 64 at
 * once, got about 9,800 objects/s at 0.10 ms of CPU each over {@code HttpURLConnection}, where the SDK's asynchronous
 * client fetched 3,400-4,100/s at 0.37 ms (bench/RESULTS.md).
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
        // The JDK keeps at most this many idle connections to one server (5 by default) for the next request: with
        // many requests at once, the others would be closed after one use and the next request would connect anew.
        if (System.getProperty("http.maxConnections") == null) {
            System.setProperty("http.maxConnections", "256");
        }
    }

    private final S3Config config;
    private final String base;
    /** How long a request may wait for the next bytes of its answer, in milliseconds. */
    private final int timeout;
    /** Sends the requests that carry a body; see {@link #exchange}. */
    private final HttpClient sender;
    /** Sockets trusting {@link S3Config#caBundle()}, else null (the JDK's defaults); one, so connections are reused. */
    private final SSLSocketFactory tls;
    private final SigV4 signer;
    /**
     * Fetches listing pages, a few at once. Platform threads: a page read on a virtual thread waited for a carrier
     * busy with the caller's work, and a no-change re-sync of 20,000 objects took 1.9-2.2 s instead of 1.6-1.9 s.
     */
    private final ExecutorService pages =
            Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("ferry-s3-list").factory());
    private volatile boolean closed;

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
        SSLContext trusted = config.caBundle() == null ? null : config.caBundle().sslContext();
        this.tls = trusted == null ? null : trusted.getSocketFactory();
        HttpClient.Builder sender = HttpClient.newBuilder();
        if (trusted != null) {
            sender.sslContext(trusted);
        }
        this.sender = sender
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                // Its steps run where they are triggered (the caller's thread or the selector's) instead of being
                // handed to a pool each time: every handoff woke a thread.
                .executor(Runnable::run)
                .build();
        // A request fails once the server is silent this long, before the answer's head or within its body; a slow
        // body is read to its end however long it takes, as long as its bytes keep coming.
        this.timeout = (int) Math.clamp(Math.min(config.attemptTimeout().toMillis(), config.idleTimeout().toMillis()),
                1, Integer.MAX_VALUE);
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
        Answer answer = send("GET", url(location), headers, null, 0, location, "read");
        return new Read(answer.headers(), answer.body());
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
        Answer answer = send("PUT", url(location), headers, body, length, location, "write");
        try (Answer ignored = answer) {
            return answer.headers();
        }
    }

    /** The headers of a HeadObject answer: the object's size, ETag, last modification and metadata. */
    HttpHeaders head(Location location) throws IOException {
        try (Answer answer = send("HEAD", url(location), Map.of(), null, 0, location, "stat")) {
            return answer.headers();
        }
    }

    /** Answers normally when the bucket exists (and the credentials may see it). */
    void headBucket(String bucket) throws IOException {
        send("HEAD", URI.create(bucketUrl(bucket) + "/"), Map.of(), null, 0, Location.of("s3://" + bucket + "/"),
                "stat").close();
    }

    /** The answer to a GetObject: its headers, and its body as it arrives. */
    record Read(HttpHeaders headers, InputStream body) {
    }

    /**
     * One page of ListObjectsV2 under {@code prefix}, fetched on a thread of its own so that a listing can
     * ask for several pages at once.
     *
     * @param delimiter groups keys into common prefixes at this string, or null for a flat listing
     * @param token the continuation token of the previous page, or null for the first
     */
    CompletableFuture<ListPage> list(String bucket, String prefix, String delimiter, int maxKeys, String token) {
        if (closed) {
            throw new IllegalStateException("the S3 store is closed: cannot list s3://" + bucket + "/" + prefix);
        }
        return CompletableFuture.supplyAsync(() -> {
            // Keys URL-encoded, as AWS advises: XML 1.0 cannot carry a key's control characters, and turns its
            // carriage returns into line feeds. (The continuation token: see ListPage.token.)
            StringBuilder query = new StringBuilder("list-type=2&encoding-type=url&prefix=")
                    .append(encode(prefix, false)).append("&max-keys=").append(maxKeys);
            if (delimiter != null) {
                query.append("&delimiter=").append(encode(delimiter, false));
            }
            if (token != null) {
                query.append("&continuation-token=").append(encode(token, false));
            }
            try {
                Location where = Location.of("s3://" + bucket + "/");
                URI url = URI.create(bucketUrl(bucket) + "/?" + query);
                try (InputStream body = send("GET", url, Map.of(), null, 0, where, "list").body()) {
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
    private Answer send(String method, URI url, Map<String, String> headers, byte[] body, int length,
            Location location, String action) throws IOException {
        if (closed) {
            throw new IllegalStateException("the S3 store is closed: cannot " + action + " " + location);
        }
        for (int attempt = 1; ; attempt++) {
            Answer answer;
            try {
                answer = exchange(method, url, headers, body, length);
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted while trying to " + action + " " + location);
                }
                if (attempt >= config.maxAttempts()) {
                    throw e;
                }
                pause(attempt, location, action);
                continue;
            }
            if (answer.status == 200 || answer.status == 206) {
                return answer;
            }
            S3Exception failure = failure(answer);
            if (attempt >= config.maxAttempts() || !retried(failure)) {
                throw failure;
            }
            pause(attempt, location, action);
        }
    }

    /**
     * One attempt: the request, signed anew, and the answer once its headers are in.
     *
     * <p>A request without a body goes over the JDK's {@code HttpURLConnection}: it runs on the caller's thread and
     * reads the answer's body straight into the caller's array. The JDK's {@link HttpClient} hands every piece of a
     * body from its selector thread to the reader in a fresh buffer: a cold 1 GiB read through the mount took 3.9 s
     * of the mount's CPU that way against 2.8 s, and 20,000 small downloads 8.0-9.0 s of CPU against 7.1-7.7 s.
     * A request with a body goes over the {@link HttpClient}, which writes it with the headers' segment unheld
     * ({@code TCP_NODELAY}); {@code HttpURLConnection} writes a body after its headers and lets the kernel hold it
     * until they are acknowledged, which costs a small PUT the server's delayed acknowledgement (40 ms on Linux).
     */
    private Answer exchange(String method, URI url, Map<String, String> headers, byte[] body, int length)
            throws IOException {
        return body == null ? exchangeWithoutBody(method, url, headers)
                : exchangeWithBody(method, url, headers, body, length);
    }

    private Answer exchangeWithoutBody(String method, URI url, Map<String, String> headers) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) url.toURL().openConnection(Proxy.NO_PROXY);
        if (tls != null && connection instanceof HttpsURLConnection https) {
            https.setSSLSocketFactory(tls);
        }
        connection.setRequestMethod(method);
        connection.setInstanceFollowRedirects(false);
        connection.setUseCaches(false);
        connection.setConnectTimeout((int) Math.clamp(config.connectTimeout().toMillis(), 1, Integer.MAX_VALUE));
        connection.setReadTimeout(timeout);
        connection.setRequestProperty("Accept", "*/*"); // instead of the JDK's default, a browser's list
        signer.sign(method, url, headers).forEach(connection::setRequestProperty);
        int status = connection.getResponseCode();
        Map<String, List<String>> fields = new HashMap<>(connection.getHeaderFields());
        fields.remove(null); // the status line
        InputStream in = status < 400 ? connection.getInputStream() : connection.getErrorStream();
        return new Answer(status, HttpHeaders.of(fields, (name, value) -> true),
                in == null ? InputStream.nullInputStream() : in);
    }

    private Answer exchangeWithBody(String method, URI url, Map<String, String> headers, byte[] body, int length)
            throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body, 0, length))
                .timeout(config.attemptTimeout());
        signer.sign(method, url, headers).forEach(request::header);
        try {
            HttpResponse<InputStream> response =
                    sender.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            return new Answer(response.statusCode(), response.headers(), response.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted"); // send says what was being done
        }
    }

    /** An answer whose headers are in and whose body is still to be read. */
    private record Answer(int status, HttpHeaders headers, InputStream body) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            body.close();
        }
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
    private static S3Exception failure(Answer answer) throws IOException {
        String body;
        try (InputStream in = answer.body()) {
            body = new String(in.readNBytes(64 * 1024), UTF_8);
        }
        String code = answer.headers().firstValue("x-amz-error-code").orElse("");
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
            // no XML (a HEAD-like answer, or a proxy's or web server's page): its first words say who answered
        }
        if (code.isEmpty() && message.isEmpty() && !body.isBlank()) {
            String text = body.replaceAll("<[^>]*>", " ").replaceAll("\\s+", " ").strip();
            message = "not an S3 answer: " + (text.length() > 160 ? text.substring(0, 160) + "..." : text);
        }
        return (S3Exception) S3Exception.builder()
                .statusCode(answer.status())
                .message(answer.status() + (code.isEmpty() ? "" : " " + code)
                        + (message.isEmpty() ? "" : ": " + message))
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).serviceName("S3")
                        .build())
                .build();
    }

    /**
     * Fails every later request, closes the connections of requests with a body (those without are the JDK's, closed
     * when idle a few seconds) and lets the listing threads end.
     */
    @Override
    public void close() {
        closed = true;
        sender.shutdownNow();
        pages.shutdown();
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
