package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import ferry.store.Location;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Answers no healthy server gives, from small fakes on loopback: an error inside a 200, a server that never answers,
 * a body cut short. Each must become an error that names the object, never a hang or wrong bytes.
 */
@Timeout(30)
class S3StoreFaultTest {
    private static final Location OBJECT = Location.of("s3://bucket/data/object.bin");
    private static final String PRECONDITION_FAILED =
            "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not"
                    + " hold</Message></Error>";

    private HttpServer http;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    /** The x-amz-content-sha256 and Content-MD5 headers of each request that had one. */
    private final List<String> payloadHashes = new CopyOnWriteArrayList<>();
    private final List<String> contentMd5s = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopServer() {
        if (http != null) {
            http.stop(0);
        }
    }

    /** An HTTP server on loopback that records each request as "METHOD path?query" and lets {@code handler} answer. */
    private S3Store storeAgainst(Consumer<HttpExchange> handler, Duration attemptTimeout, int attempts)
            throws IOException {
        return storeAgainst(handler, attemptTimeout, attempts, S3Store.STREAMED_PUT_LIMIT);
    }

    /** The same, with {@code cutoff} the largest object written in one PUT and read in one GET. */
    private S3Store storeAgainst(Consumer<HttpExchange> handler, Duration attemptTimeout, int attempts, long cutoff)
            throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", exchange -> {
            String query = exchange.getRequestURI().getRawQuery();
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath()
                    + (query == null ? "" : "?" + query));
            String payloadHash = exchange.getRequestHeaders().getFirst("x-amz-content-sha256");
            if (payloadHash != null) {
                payloadHashes.add(payloadHash);
            }
            String contentMd5 = exchange.getRequestHeaders().getFirst("Content-MD5");
            if (contentMd5 != null) {
                contentMd5s.add(contentMd5);
            }
            try (exchange) {
                exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
                handler.accept(exchange);
            }
        });
        http.start();
        return new S3Store(config("http://127.0.0.1:" + http.getAddress().getPort())
                .withPartSize(S3Config.MIN_PART_SIZE)
                .withRetries(attemptTimeout, attempts), S3Store.MAX_SINGLE_COPY, null, cutoff, true);
    }

    private static S3Config config(String endpoint) throws StoreException {
        return S3Config.fromEnvironment(Map.of(
                "AWS_ENDPOINT_URL", endpoint,
                "AWS_ACCESS_KEY_ID", "fake-access-key",
                "AWS_SECRET_ACCESS_KEY", "fake-secret-key",
                "AWS_REGION", "us-east-1",
                "AWS_EC2_METADATA_DISABLED", "true"));
    }

    private static void answer(HttpExchange exchange, int status, String xml, Map<String, String> headers) {
        try {
            byte[] body = xml.getBytes(UTF_8);
            headers.forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a fake server does between pieces of a body; it may wait. */
    private interface Pause {
        void run() throws InterruptedException;
    }

    /**
     * Answers 200 announcing {@code announced} bytes, then sends {@code pieces} pieces of 100 bytes, each followed by
     * {@code after}.
     */
    private static void trickle(HttpExchange exchange, long announced, int pieces, Pause after) {
        try {
            exchange.getResponseHeaders().add("ETag", "\"e\"");
            exchange.sendResponseHeaders(200, announced);
            for (int i = 0; i < pieces; i++) {
                exchange.getResponseBody().write(new byte[100]);
                exchange.getResponseBody().flush();
                after.run();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How many bytes of the answer starting at a given offset to send before dropping the connection; -1: all. */
    private interface Drop {
        long after(long first);
    }

    /**
     * Answers a GET of {@code object}, whole (200) or the range asked for (206), and drops the connection once
     * {@code drop} says so.
     */
    private static void serve(HttpExchange exchange, byte[] object, Drop drop) {
        String range = exchange.getRequestHeaders().getFirst("Range");
        String[] bounds = range == null ? new String[] {"0", String.valueOf(object.length - 1)}
                : range.substring("bytes=".length()).split("-");
        long first = Long.parseLong(bounds[0]);
        long last = Math.min(Long.parseLong(bounds[1]), object.length - 1);
        long sent = drop.after(first);
        try {
            exchange.getResponseHeaders().add("ETag", "\"e\"");
            if (range != null) {
                exchange.getResponseHeaders().add("Content-Range", "bytes " + first + "-" + last + "/" + object.length);
            }
            exchange.sendResponseHeaders(range == null ? 200 : 206, last - first + 1);
            exchange.getResponseBody().write(object, (int) first, (int) (sent < 0 ? last - first + 1 : sent));
            exchange.getResponseBody().flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (sent >= 0) {
            throw new UncheckedIOException(new IOException("connection dropped on purpose"));
        }
    }

    @Test
    void complete_multipart_upload_answered_200_with_an_error_body_fails_and_aborts_the_upload() throws IOException {
        try (S3Store store = storeAgainst(exchange -> {
            String method = exchange.getRequestMethod();
            String query = String.valueOf(exchange.getRequestURI().getRawQuery());
            if (method.equals("POST") && query.startsWith("uploads")) {
                answer(exchange, 200, "<InitiateMultipartUploadResult><Bucket>bucket</Bucket>"
                        + "<Key>data/object.bin</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>",
                        Map.of());
            } else if (method.equals("PUT") && query.contains("partNumber")) {
                answer(exchange, 200, "", Map.of("ETag", "\"part-etag\""));
            } else if (method.equals("POST") && query.contains("uploadId")) {
                // What S3 may send when it fails after it has started answering a CompleteMultipartUpload.
                answer(exchange, 200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
                        + "<Message>We encountered an internal error. Please try again.</Message></Error>", Map.of());
            } else if (method.equals("DELETE")) {
                answer(exchange, 204, "", Map.of());
            } else {
                answer(exchange, 400, "<Error><Code>Unexpected</Code></Error>", Map.of());
            }
        }, Duration.ofSeconds(5), 1)) {
            assertThatThrownBy(() -> {
                        try (ObjectOutput out = store.createOrOverwrite(OBJECT, WriteOptions.DEFAULT)) {
                            out.write(new byte[S3Config.MIN_PART_SIZE + 1]);
                            out.commit();
                        }
                    })
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(OBJECT.toString())
                    .hasMessageContaining("InternalError");
        }
        assertThat(requests).anyMatch(r -> r.startsWith("POST /bucket/data/object.bin?uploadId=upload-1"));
        assertThat(requests).last().isEqualTo("DELETE /bucket/data/object.bin?uploadId=upload-1");
    }

    @Test
    void an_exclusive_create_whose_first_answer_was_lost_recognizes_its_own_object_on_the_retry() throws IOException {
        String[] storedWriteId = new String[1];
        try (S3Store store = storeAgainst(exchange -> {
            String method = exchange.getRequestMethod();
            boolean probe = exchange.getRequestURI().getRawPath().contains("/.ferry/probe/");
            boolean conditional = "*".equals(exchange.getRequestHeaders().getFirst("If-None-Match"));
            if (method.equals("DELETE")) {
                answer(exchange, 204, "", Map.of());
            } else if (method.equals("PUT") && probe) {
                answer(exchange, conditional ? 412 : 200, conditional ? PRECONDITION_FAILED : "",
                        Map.of("ETag", "\"probe\""));
            } else if (method.equals("PUT") && storedWriteId[0] == null) {
                // The write lands, but the answer says otherwise, so the SDK tries again.
                storedWriteId[0] = exchange.getRequestHeaders().getFirst("x-amz-meta-ferry-write-id");
                answer(exchange, 500, "<Error><Code>InternalError</Code><Message>try again</Message></Error>",
                        Map.of());
            } else if (method.equals("PUT")) {
                answer(exchange, 412, PRECONDITION_FAILED, Map.of());
            } else if (method.equals("HEAD") && storedWriteId[0] != null) {
                exchange.getResponseHeaders().add("ETag", "\"stored\"");
                exchange.getResponseHeaders().add("Last-Modified", "Thu, 26 Nov 2026 10:00:00 GMT");
                exchange.getResponseHeaders().add("x-amz-meta-ferry-write-id", storedWriteId[0]);
                exchange.getResponseHeaders().add("Content-Length", "5");
                try {
                    exchange.sendResponseHeaders(200, -1);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else {
                answer(exchange, 404, "", Map.of());
            }
        }, Duration.ofSeconds(5), 2)) {
            try (ObjectOutput out = store.create(OBJECT, WriteOptions.DEFAULT)) {
                out.write("first".getBytes(UTF_8));
                assertThat(out.commit().etag()).isEqualTo("stored");
            }
        }
        assertThat(storedWriteId[0]).isNotNull();
        assertThat(requests.stream().filter(r -> r.equals("PUT /bucket/data/object.bin"))).hasSize(2);
    }

    @Test
    void a_server_that_ignores_the_range_of_a_read_is_refused_rather_than_its_bytes_taken_for_the_range()
            throws IOException {
        S3Store store = storeAgainst(exchange -> answer(exchange, 200, "0123456789",
                Map.of("ETag", "\"e\"", "Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT")), Duration.ofSeconds(5), 1);

        assertThatThrownBy(() -> store.openStream(OBJECT, 5, 3)).isInstanceOf(StoreException.class)
                .hasMessageContaining("answered a ranged read of " + OBJECT + " with the whole object");
        try (InputStream in = store.openStream(OBJECT, 0, 10)) { // from the start, the whole object is the range
            assertThat(in.readAllBytes()).isEqualTo("0123456789".getBytes(UTF_8));
        }
        store.close();
    }

    @Test
    void a_server_that_accepts_connections_but_never_answers_becomes_a_timeout_error() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread.ofVirtual().start(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            S3Config config = config("http://127.0.0.1:" + silent.getLocalPort())
                    .withRetries(Duration.ofMillis(300), 2);
            try (S3Store store = new S3Store(config)) {
                assertThatThrownBy(() -> store.stat(OBJECT))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("did not answer in time")
                        .hasMessageContaining(OBJECT.toString());
            } finally {
                for (Socket socket : held) {
                    socket.close();
                }
            }
        }
    }

    @Test
    void an_https_endpoint_that_speaks_plain_http_is_an_error_that_suggests_http() throws IOException {
        // A plain HTTP server answers the TLS greeting as a malformed request, as Jetty does.
        try (ServerSocket plain = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!plain.isClosed()) {
                    try (Socket socket = plain.accept()) {
                        socket.getInputStream().read(new byte[512]);
                        socket.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        // the next connection, or the test is over
                    }
                }
            });
            S3Config config = config("https://127.0.0.1:" + plain.getLocalPort())
                    .withRetries(Duration.ofSeconds(5), 1);
            try (S3Store store = new S3Store(config)) {
                assertThatThrownBy(() -> store.stat(OBJECT))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("does not speak TLS")
                        .hasMessageContaining("http://127.0.0.1:" + plain.getLocalPort())
                        .hasMessageContaining(OBJECT.toString());
            }
        }
    }

    @Test
    void a_body_cut_short_is_an_error_naming_the_object_not_a_short_read() throws IOException {
        try (ServerSocket dying = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // Announces 1000 bytes, sends 400 and drops the connection, as a server that died would.
            Thread.ofVirtual().start(() -> {
                while (!dying.isClosed()) {
                    try (Socket socket = dying.accept()) {
                        InputStream request = socket.getInputStream();
                        int matched = 0;
                        while (matched < 4) {
                            int b = request.read();
                            if (b < 0) {
                                break;
                            }
                            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
                        }
                        OutputStream response = socket.getOutputStream();
                        response.write(("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"e\"\r\n"
                                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(UTF_8));
                        response.write(new byte[400]);
                        response.flush();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            S3Config config = config("http://127.0.0.1:" + dying.getLocalPort()).withRetries(Duration.ofSeconds(5), 1);
            try (S3Store store = new S3Store(config)) {
                assertThatThrownBy(() -> {
                            try (InputStream in = store.openStream(OBJECT)) {
                                in.readAllBytes();
                            }
                        })
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining(OBJECT.toString());
            }
        }
    }

    @Test
    void requests_in_turn_share_one_connection_also_after_an_error_answer() throws IOException {
        Location missing = Location.of("s3://bucket/data/missing.bin");
        List<Integer> clientPorts = new CopyOnWriteArrayList<>();
        try (S3Store store = storeAgainst(exchange -> {
            clientPorts.add(exchange.getRemoteAddress().getPort());
            if (exchange.getRequestMethod().equals("HEAD")) {
                answer(exchange, 200, "", Map.of()); // the bucket exists
            } else if (exchange.getRequestURI().getRawPath().endsWith("missing.bin")) {
                answer(exchange, 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                        + "</Message></Error>", Map.of());
            } else {
                answer(exchange, 200, "served", Map.of("ETag", "\"e\""));
            }
        }, Duration.ofSeconds(5), 1)) {
            for (int i = 0; i < 5; i++) {
                try (InputStream in = store.openStream(OBJECT)) {
                    assertThat(in.readAllBytes()).isEqualTo("served".getBytes(UTF_8));
                }
                assertThatThrownBy(() -> store.openStream(missing)).isInstanceOf(ObjectNotFoundException.class);
            }
        }
        // Each answer read to its end, the next request goes over the same connection instead of a new one.
        assertThat(clientPorts).hasSizeGreaterThanOrEqualTo(10);
        assertThat(new HashSet<>(clientPorts)).hasSize(1);
    }

    @Test
    void a_read_answered_503_is_tried_again_and_then_served() throws IOException {
        int[] answered = new int[1];
        try (S3Store store = storeAgainst(exchange -> {
            if (answered[0]++ == 0) {
                answer(exchange, 503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
                        + "</Error>", Map.of());
            } else {
                answer(exchange, 200, "served", Map.of("ETag", "\"e\"", "x-amz-meta-ferry-crc32c", "0a1b2c3d"));
            }
        }, Duration.ofSeconds(5), 2)) {
            try (ObjectInputStream in = store.openStream(OBJECT)) {
                assertThat(in.readAllBytes()).isEqualTo("served".getBytes(UTF_8));
                assertThat(in.info().etag()).isEqualTo("e");
                assertThat(in.info().crc32c()).isEqualTo("0a1b2c3d");
                assertThat(in.info().size()).isEqualTo(6);
            }
        }
        assertThat(requests).containsExactly("GET /bucket/data/object.bin", "GET /bucket/data/object.bin");
    }

    @Test
    void a_large_read_whose_connections_drop_mid_part_asks_again_for_the_rest_and_arrives_whole() throws IOException {
        int part = S3Config.MIN_PART_SIZE;
        byte[] object = new byte[3 * part + 100];
        new java.util.Random(9).nextBytes(object);
        // The first answer for the first part, read straight from the GET of the whole object, and for the second,
        // fetched ahead into memory, each stop half way through the part and drop the connection.
        java.util.Set<Long> dropped = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try (S3Store store = storeAgainst(exchange -> serve(exchange, object,
                first -> (first == 0 || first == part) && dropped.add(first) ? part / 2 : -1),
                Duration.ofSeconds(5), 1, part)) {
            try (InputStream in = store.openStream(OBJECT)) {
                assertThat(in.readAllBytes()).isEqualTo(object);
            }
        }
        assertThat(dropped).containsExactlyInAnyOrder(0L, (long) part);
        assertThat(requests).hasSize(4 + 2); // the whole object's, one for each of the three other parts, two again
    }

    @Test
    void a_part_whose_connection_keeps_dropping_fails_the_read_and_every_read_after_it() throws IOException {
        int part = S3Config.MIN_PART_SIZE;
        byte[] object = new byte[3 * part + 100];
        java.util.concurrent.atomic.AtomicInteger drops = new java.util.concurrent.atomic.AtomicInteger();
        try (S3Store store = storeAgainst(exchange -> serve(exchange, object, first -> {
            if (first < part || first >= 2L * part) {
                return -1;
            }
            drops.incrementAndGet(); // the second part never arrives whole
            return 1000;
        }), Duration.ofSeconds(5), 1, part)) {
            try (InputStream in = store.openStream(OBJECT)) {
                assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class)
                        .hasMessageContaining(OBJECT.toString());
                // The reader cannot tell which bytes it missed: reading on is refused, never a skip.
                assertThatThrownBy(in::read).isInstanceOf(IOException.class)
                        .hasMessageContaining("an earlier read of " + OBJECT + " failed");
            }
        }
        assertThat(drops).hasValue(3); // the part asked for three times, each time from where it broke
    }

    @Test
    void an_error_page_that_is_not_from_s3_is_quoted_so_the_message_says_who_answered() throws IOException {
        try (S3Store store = storeAgainst(exchange -> answer(exchange, 400,
                "<html><body><h1>Bad Message 400</h1><pre>reason: Illegal character</pre></body></html>", Map.of()),
                Duration.ofSeconds(5), 1)) {
            assertThatThrownBy(() -> store.list(Location.of("s3://bucket/data/")).hasNext())
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("answered 400")
                    .hasMessageContaining("not an S3 answer: Bad Message 400 reason: Illegal character");
        }
    }

    @Test
    void a_read_that_keeps_failing_names_the_object_the_code_and_the_attempts() throws IOException {
        try (S3Store store = storeAgainst(exchange -> answer(exchange, 500,
                "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>",
                Map.of()), Duration.ofSeconds(5), 3)) {
            assertThatThrownBy(() -> store.openStream(OBJECT, 0, 10))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(OBJECT.toString())
                    .hasMessageContaining("InternalError")
                    .hasMessageContaining("3 attempts");
        }
        assertThat(requests).hasSize(3);
    }

    @Test
    void a_body_that_stops_arriving_becomes_a_timeout_error_naming_the_object() throws IOException {
        CountDownLatch release = new CountDownLatch(1);
        // A server that stalls half-way through the body.
        try (S3Store store = storeAgainst(exchange -> trickle(exchange, 1000, 1, release::await),
                Duration.ofMillis(300), 1)) {
            try (InputStream in = store.openStream(OBJECT)) {
                assertThatThrownBy(in::readAllBytes)
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("did not answer in time")
                        .hasMessageContaining(OBJECT.toString());
            }
            assertThat(Thread.currentThread().isInterrupted()).as("the timeout leaves no interrupt behind").isFalse();
        } finally {
            release.countDown();
        }
    }

    @Test
    void a_small_put_sends_its_md5_so_the_server_can_check_the_bytes_it_received() throws Exception {
        byte[] bytes = "eight KiB or so".getBytes(UTF_8);
        try (S3Store store = storeAgainst(exchange -> answer(exchange, 200, "", Map.of("ETag", "\"put\"")),
                Duration.ofSeconds(5), 1)) {
            try (ObjectOutput out = store.createOrOverwrite(OBJECT, WriteOptions.DEFAULT)) {
                out.write(bytes);
                assertThat(out.commit().etag()).isEqualTo("put");
            }
        }
        assertThat(requests).containsExactly("PUT /bucket/data/object.bin");
        assertThat(contentMd5s).containsExactly(
                Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(bytes)));
        assertThat(payloadHashes).containsExactly("UNSIGNED-PAYLOAD");
    }

    @Test
    void a_slow_body_is_read_to_the_end_even_when_it_takes_longer_than_the_attempt_timeout() throws IOException {
        int chunks = 8;
        // A slow link: the sleep is the pace of the body, not a wait for a condition.
        try (S3Store store = storeAgainst(exchange -> trickle(exchange, chunks * 100L, chunks, () -> Thread.sleep(100)),
                Duration.ofMillis(400), 1)) {
            try (InputStream in = store.openStream(OBJECT)) {
                assertThat(in.readAllBytes()).hasSize(chunks * 100);
            }
        }
    }
}
