package ferry.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.joran.util.ConfigurationWatchListUtil;
import ferry.store.Location;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.net.URL;
import java.net.URLDecoder;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.shaded.org.eclipse.jetty.server.Request;
import org.gaul.shaded.org.eclipse.jetty.server.Server;
import org.gaul.shaded.org.eclipse.jetty.server.handler.HandlerWrapper;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.slf4j.LoggerFactory;

/**
 * A real S3-compatible server (s3proxy 2.6.0) in this process, on {@code 127.0.0.1} only, for tests and benchmark
 * scripts. Objects live on disk under {@link #folder()} ({@code filesystem-nio2}: one file per object, metadata in
 * extended attributes), so a test can corrupt bytes at rest through {@link #objectFile}. {@link #stop()} and
 * {@link #start()} take the server down and bring it back on the same port, with the same objects.
 *
 * <p>s3proxy 2.6.0 ignores {@code If-None-Match: *} on PutObject and CompleteMultipartUpload (it honours the header
 * only on GET and HEAD). By default this server adds the check in front of s3proxy, so that it behaves like AWS S3
 * and MinIO: a conditional write to an existing key answers 412 PreconditionFailed. The check runs before
 * authentication and is atomic only among conditional writes, which is all a test needs.
 * {@link Builder#ignoreIfNoneMatch()} gives s3proxy as shipped, for testing that a client fails closed.
 */
public final class S3TestServer implements AutoCloseable {
    public static final String ACCESS_KEY = "ferry-test-access-key";
    public static final String SECRET_KEY = "ferry-test-secret-key";
    public static final String REGION = "us-east-1";
    private static final String LOGGING_RESOURCE = "/ferry-testing-logback.xml";

    static {
        quietLogging();
    }

    private final Path folder;
    private final boolean ownsFolder;
    private final boolean inMemory;
    private final boolean honourIfNoneMatch;
    /** Writes and deletes outside this key prefix are refused; null: none are. */
    private final String writableOnlyUnder;
    private final BlobStoreContext context;
    private final BlobStore blobStore;
    private final Object conditionalWrites = new Object();
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> requests =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** The https certificate's key store and PEM file, or null for plain http. */
    private final Path tls;
    private int port;
    private S3Proxy proxy;

    private S3TestServer(Path folder, boolean ownsFolder, int port, boolean honourIfNoneMatch,
            String writableOnlyUnder, boolean inMemory, Path tls) {
        this.folder = folder;
        this.ownsFolder = ownsFolder;
        this.inMemory = inMemory;
        this.port = port;
        this.honourIfNoneMatch = honourIfNoneMatch;
        this.writableOnlyUnder = writableOnlyUnder;
        this.tls = tls;
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", folder.toString());
        this.context = ContextBuilder.newBuilder(inMemory ? "transient-nio2" : "filesystem-nio2")
                .credentials("ferry", "ferry")
                .overrides(properties)
                .build(BlobStoreContext.class);
        this.blobStore = context.getBlobStore();
    }

    /** A started server on a free port, storing under a temporary folder that {@link #close()} deletes. */
    public static S3TestServer newServer() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How to start a server; every option has a default. */
    public static final class Builder {
        private Path folder;
        private int port;
        private boolean honourIfNoneMatch = true;
        private String writableOnlyUnder;
        private boolean inMemory;
        private boolean tls;

        private Builder() {}

        /**
         * Serve https only, with a new self-signed certificate for 127.0.0.1 (made with the JDK's keytool), which
         * clients must be told to trust: {@link #certificate()} is its PEM file.
         */
        public Builder tls() {
            this.tls = true;
            return this;
        }

        /**
         * Keep objects in memory ({@code transient-nio2}) rather than in files: keys that no file name can hold (such
         * as {@code a/../b}) become possible, and {@link #objectFile} is unavailable. A write cut off by
         * {@link #stop()} stays behind in memory and breaks the server's listings: stop a server on disk mid-write
         * instead.
         */
        public Builder inMemory() {
            this.inMemory = true;
            return this;
        }

        /** Where objects are stored (created if absent, kept at close); default: a temporary folder. */
        public Builder folder(Path folder) {
            this.folder = Objects.requireNonNull(folder, "folder is null");
            return this;
        }

        /** The port on 127.0.0.1; default 0, a free port chosen at start. */
        public Builder port(int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be 0..65535: " + port);
            }
            this.port = port;
            return this;
        }

        /** Behave like s3proxy 2.6.0 as shipped: accept a write with {@code If-None-Match: *} to an existing key. */
        public Builder ignoreIfNoneMatch() {
            this.honourIfNoneMatch = false;
            return this;
        }

        /**
         * Refuse, with 403 AccessDenied, every write or delete of a key that does not start with {@code keyPrefix}: the
         * credentials of a user whose policy grants one prefix of a bucket.
         */
        public Builder writableOnlyUnder(String keyPrefix) {
            this.writableOnlyUnder = Objects.requireNonNull(keyPrefix, "keyPrefix is null");
            return this;
        }

        public S3TestServer start() {
            boolean temporary = folder == null;
            Path where;
            try {
                where = temporary ? Files.createTempDirectory("ferry-s3-") : Files.createDirectories(folder);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the S3 test server's folder", e);
            }
            S3TestServer server = new S3TestServer(where, temporary, port, honourIfNoneMatch, writableOnlyUnder,
                    inMemory, tls ? selfSignedCertificate() : null);
            try {
                server.start();
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
            return server;
        }
    }

    /** Starts the server again on the same port after {@link #stop()}; does nothing if it is running. */
    public synchronized void start() {
        if (proxy != null) {
            return;
        }
        S3Proxy.Builder builder = S3Proxy.builder()
                .blobStore(blobStore)
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY);
        if (tls == null) {
            builder.endpoint(URI.create("http://127.0.0.1:" + port));
        } else {
            builder.secureEndpoint(URI.create("https://127.0.0.1:" + port))
                    .keyStore(tls.resolve(KEY_STORE).toString(), KEY_STORE_PASSWORD);
        }
        S3Proxy next = builder.build();
        if (honourIfNoneMatch || writableOnlyUnder != null) {
            installRequestChecks(next);
        }
        try {
            next.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the S3 test server on 127.0.0.1:" + port, e);
        }
        port = tls == null ? next.getPort() : next.getSecurePort();
        proxy = next;
    }

    /**
     * Stops serving (connections are refused) but keeps the objects and the port for {@link #start()}. Writes cut off
     * leave nothing behind on a server on disk, as on S3 (see {@link #removeCutOffWrites()}).
     */
    public synchronized void stop() {
        if (proxy == null) {
            return;
        }
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the S3 test server on 127.0.0.1:" + port, e);
        } finally {
            proxy = null;
        }
        if (!inMemory) {
            removeCutOffWrites();
        }
    }

    /**
     * s3proxy writes an object to {@code <key>-<uuid>} beside it, sets its metadata (extended attributes) and renames
     * it. A write cut off by {@link #stop()} leaves that file, which later listings show as an object and then fail
     * on (400: "attribute 'user:user.content-md5' is not set"). S3 never shows a write that did not complete, so
     * such files are removed: named so, and without the MD5 attribute every finished object has.
     */
    private void removeCutOffWrites() {
        java.util.regex.Pattern temporary = java.util.regex.Pattern.compile(
                ".*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        try (var files = Files.walk(folder)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (!temporary.matcher(file.getFileName().toString()).matches()) {
                    continue;
                }
                var attributes = Files.getFileAttributeView(file,
                        java.nio.file.attribute.UserDefinedFileAttributeView.class);
                if (attributes != null && !attributes.list().contains("user.content-md5")) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear writes the S3 test server left unfinished in " + folder, e);
        }
    }

    public synchronized boolean isRunning() {
        return proxy != null;
    }

    /** {@code http://127.0.0.1:<port>} ({@code https} with {@link Builder#tls()}), valid across stop and start. */
    public synchronized URI endpoint() {
        return URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + port);
    }

    /** The PEM file of the https certificate, which clients are to trust; only with {@link Builder#tls()}. */
    public Path certificate() {
        if (tls == null) {
            throw new IllegalStateException("this server serves plain http: build it with tls()");
        }
        return tls.resolve(CERTIFICATE);
    }

    private static final String KEY_STORE = "server.p12";
    private static final String KEY_STORE_PASSWORD = "ferry-test";
    private static final String CERTIFICATE = "server.pem";

    /** A temporary folder with a key store holding a new self-signed certificate for 127.0.0.1, and its PEM. */
    private static Path selfSignedCertificate() {
        try {
            Path dir = Files.createTempDirectory("ferry-s3-tls-");
            keytool(dir, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1", "-ext", "BC=ca:true", "-validity", "7",
                    "-keystore", KEY_STORE, "-storetype", "PKCS12", "-storepass", KEY_STORE_PASSWORD);
            keytool(dir, "-exportcert", "-rfc", "-alias", "server", "-keystore", KEY_STORE,
                    "-storepass", KEY_STORE_PASSWORD, "-file", CERTIFICATE);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a certificate for the S3 test server", e);
        }
    }

    private static void keytool(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running keytool");
        }
    }

    public synchronized int port() {
        return port;
    }

    /** Creates a bucket (names need at least 3 characters) and returns its root location. */
    public Location createBucket(String name) {
        Objects.requireNonNull(name, "name is null");
        if (name.length() < 3) {
            throw new IllegalArgumentException("bucket names need at least 3 characters: " + name);
        }
        blobStore.createContainerInLocation(null, name);
        return Location.of("s3://" + name + "/");
    }

    /** Puts an object as another tool would, straight into the server's store: no metadata of Ferry's. */
    public void putObject(String bucket, String key, byte[] bytes) {
        blobStore.putBlob(bucket, blobStore.blobBuilder(key).payload(bytes).build());
    }

    /**
     * How many requests with this HTTP method ({@code GET}, {@code PUT}...) the server has received, so a test can
     * tell what a client asked for; counted unless the server was built with {@link Builder#ignoreIfNoneMatch()}.
     */
    public long requests(String method) {
        java.util.concurrent.atomic.LongAdder count = requests.get(method);
        return count == null ? 0 : count.sum();
    }

    /**
     * The variables a client needs to reach this server: endpoint, test credentials, region, instance metadata off
     * (nothing may reach beyond loopback), the checksum settings s3proxy accepts, and with {@link Builder#tls()} the
     * certificate to trust ({@code AWS_CA_BUNDLE}).
     */
    public Map<String, String> environment() {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("AWS_ENDPOINT_URL", endpoint().toString());
        environment.put("AWS_ACCESS_KEY_ID", ACCESS_KEY);
        environment.put("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        environment.put("AWS_REGION", REGION);
        environment.put("AWS_EC2_METADATA_DISABLED", "true");
        environment.put("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required");
        environment.put("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required");
        if (tls != null) {
            environment.put("AWS_CA_BUNDLE", certificate().toString());
        }
        return Map.copyOf(environment);
    }

    /** Where objects are stored: {@code <folder>/<bucket>/<key>}. */
    public Path folder() {
        return folder;
    }

    /**
     * The file that holds an object's bytes. To corrupt it at rest, overwrite bytes in place (a {@code FileChannel}
     * opened for writing): replacing the file would lose the extended attributes that hold its metadata.
     */
    public Path objectFile(String bucket, String key) {
        Path file = folder.resolve(bucket).resolve(key).normalize();
        if (!file.startsWith(folder.resolve(bucket))) {
            throw new IllegalArgumentException("key escapes the bucket folder: " + key);
        }
        return file;
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            context.close();
            if (ownsFolder) {
                deleteRecursively(folder);
            }
            if (tls != null) {
                deleteRecursively(tls);
            }
        }
    }

    /**
     * Puts the checks s3proxy lacks in front of its handler: {@code If-None-Match: *} on writes, and writes limited to
     * a key prefix ({@link Builder#writableOnlyUnder}). S3Proxy keeps its Jetty server private, so the field is reached
     * by reflection, before the server starts.
     */
    private void installRequestChecks(S3Proxy target) {
        Server server;
        try {
            Field field = S3Proxy.class.getDeclaredField("server");
            field.setAccessible(true);
            server = (Server) field.get(target);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException(
                    "cannot add request checks to this s3proxy version; use ignoreIfNoneMatch()", e);
        }
        RequestChecks check = new RequestChecks();
        check.setHandler(server.getHandler());
        server.setHandler(check);
    }

    private final class RequestChecks extends HandlerWrapper {
        @Override
        public void handle(String target, Request baseRequest, HttpServletRequest request, HttpServletResponse response)
                throws IOException, ServletException {
            requests.computeIfAbsent(request.getMethod(), m -> new java.util.concurrent.atomic.LongAdder()).increment();
            if (writableOnlyUnder != null && !writable(request)) {
                request.getInputStream().transferTo(OutputStream.nullOutputStream());
                refuse(baseRequest, response, 403, "<Code>AccessDenied</Code><Message>Access Denied</Message>");
                return;
            }
            String[] bucketAndKey = honourIfNoneMatch ? conditionalWriteTarget(request) : null;
            if (bucketAndKey == null) {
                super.handle(target, baseRequest, request, response);
                return;
            }
            synchronized (conditionalWrites) {
                if (!blobStore.blobExists(bucketAndKey[0], bucketAndKey[1])) {
                    super.handle(target, baseRequest, request, response);
                    return;
                }
            }
            request.getInputStream().transferTo(OutputStream.nullOutputStream());
            refuse(baseRequest, response, 412, "<Code>PreconditionFailed</Code><Message>At least one of the"
                    + " pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition>");
        }

        private static void refuse(Request baseRequest, HttpServletResponse response, int status, String error)
                throws IOException {
            byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>" + error + "</Error>").getBytes(UTF_8);
            response.setStatus(status);
            response.setContentType("application/xml; charset=UTF-8");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
            baseRequest.setHandled(true);
        }

        /** Whether a request may run under {@link #writableOnlyUnder}: reads, bucket requests, and keys below it. */
        private boolean writable(HttpServletRequest request) {
            String method = request.getMethod();
            if (!method.equals("PUT") && !method.equals("POST") && !method.equals("DELETE")) {
                return true;
            }
            String path = request.getRequestURI();
            int slash = path.indexOf('/', 1);
            if (slash < 0 || slash == path.length() - 1) {
                return true; // the bucket itself (a bulk delete names its keys in its body: not used by Ferry)
            }
            return decode(path.substring(slash + 1)).startsWith(writableOnlyUnder);
        }

        /** Bucket and key of a PutObject or CompleteMultipartUpload carrying {@code If-None-Match: *}, else null. */
        private static String[] conditionalWriteTarget(HttpServletRequest request) {
            String condition = request.getHeader("If-None-Match");
            if (condition == null || !condition.trim().equals("*")) {
                return null;
            }
            String query = request.getQueryString() == null ? "" : request.getQueryString();
            boolean uploadId = ("&" + query).contains("&uploadId=");
            boolean put = request.getMethod().equals("PUT")
                    && !uploadId
                    && request.getHeader("x-amz-copy-source") == null;
            boolean complete = request.getMethod().equals("POST") && uploadId;
            if (!put && !complete) {
                return null;
            }
            String path = request.getRequestURI();
            int slash = path.indexOf('/', 1);
            if (!path.startsWith("/") || slash < 0 || slash == path.length() - 1) {
                return null;
            }
            return new String[] {decode(path.substring(1, slash)), decode(path.substring(slash + 1))};
        }

        private static String decode(String raw) {
            // A path has no form encoding: '+' is a plus sign, not a space.
            return URLDecoder.decode(raw.replace("+", "%2B"), UTF_8);
        }
    }

    /**
     * s3proxy ships no logging configuration, and logback's default (everything at DEBUG on the console) slows it to
     * a crawl. When nothing else configured logback, use the WARN-level configuration of this module.
     */
    private static void quietLogging() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        if (ConfigurationWatchListUtil.getMainWatchURL(context) == null) {
            URL configuration = S3TestServer.class.getResource(LOGGING_RESOURCE);
            if (configuration != null) {
                context.reset();
                JoranConfigurator configurator = new JoranConfigurator();
                configurator.setContext(context);
                try {
                    configurator.doConfigure(configuration);
                } catch (JoranException e) {
                    throw new IllegalStateException("bad logging configuration " + LOGGING_RESOURCE, e);
                }
            }
        }
        // Even under another configuration, keep the server's own chatter at WARN unless it was set on purpose.
        for (String noisy : new String[] {"org.gaul", "org.jclouds", "jclouds"}) {
            ch.qos.logback.classic.Logger logger = context.getLogger(noisy);
            if (logger.getLevel() == null && !logger.getEffectiveLevel().isGreaterOrEqual(Level.WARN)) {
                logger.setLevel(Level.WARN);
            }
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the S3 test server's folder " + root, e);
        }
    }
}
