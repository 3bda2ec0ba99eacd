package ferry.s3;

import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.awscore.defaultsmode.DefaultsMode;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.client.config.SdkAdvancedAsyncClientOption;
import software.amazon.awssdk.crt.CrtResource;
import software.amazon.awssdk.endpoints.Endpoint;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.http.crt.AwsCrtAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Objects in an S3-compatible store, through the AWS SDK's asynchronous client; with a custom endpoint the requests
 * of many-small-object work (GetObject, HeadObject, ListObjectsV2, PutObject of a small object) go over
 * {@link S3Http} instead, at a third of the CPU per request. Every method blocks its caller (a virtual thread,
 * typically, with many at once) while the clients carry the requests.
 */
final class S3Store implements ObjectStore {
    /** User metadata ({@code x-amz-meta-ferry-crc32c}) holding the whole-object CRC32C of an object Ferry wrote. */
    static final String CRC32C_METADATA = "ferry-crc32c";

    /** User metadata naming the write that made an object, so that a retried write can recognize its own. */
    static final String WRITE_ID_METADATA = "ferry-write-id";

    /**
     * The default largest object sent as one streamed PutObject when its size and CRC32C are known up front (as
     * rclone's default upload cutoff, 200 MiB; {@code FERRY_S3_UPLOAD_CUTOFF} changes it); larger ones, and those
     * of unknown size or checksum, go as multipart uploads. Larger objects are also read in parts.
     */
    static final long STREAMED_PUT_LIMIT = 200L << 20;

    /** The largest object CopyObject copies in one request; larger ones are copied part by part. */
    static final long MAX_SINGLE_COPY = 5L << 30;

    /** Profile name of the configuration given to the SDK in place of the user's files (see {@link #newClient}). */
    private static final String SDK_PROFILE = "ferry";

    /** Stores with an SDK client not yet closed in this process. */
    private static final AtomicInteger OPEN = new AtomicInteger();

    private final S3Config config;
    /** Made on first use: a command served by {@link #http} alone never loads the SDK's client or the CRT. */
    private S3AsyncClient client;
    /** Requests past the SDK's pipeline, with a custom endpoint; null to send every request through the SDK. */
    private final S3Http http;
    private final S3Errors errors;
    private final ConditionalWrites conditionalWrites;
    private final long singleCopyLimit;
    private final UploadJournal uploads;
    private final long streamedPutLimit;
    private final AtomicBoolean orphansAborted = new AtomicBoolean();
    private final Set<String> existingBuckets = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    S3Store(S3Config config) {
        this(config, MAX_SINGLE_COPY, null, STREAMED_PUT_LIMIT, true);
    }

    /**
     * @param singleCopyLimit lets a test take the part-by-part copy path without writing 5 GiB
     * @param uploads where multipart uploads under way are recorded, or {@code null} not to record them
     * @param streamedPutLimit the largest object of known size and CRC32C sent as one streamed PUT
     * @param direct send the requests {@link S3Http} knows over it when there is a custom endpoint (false lets a test
     *     send everything through the SDK, as against AWS)
     */
    S3Store(S3Config config, long singleCopyLimit, UploadJournal uploads, long streamedPutLimit, boolean direct) {
        this.config = Objects.requireNonNull(config, "config is null");
        this.singleCopyLimit = singleCopyLimit;
        this.uploads = uploads;
        this.streamedPutLimit = streamedPutLimit;
        this.http = direct && S3Http.serves(config) ? new S3Http(config) : null;
        this.errors = new S3Errors(config);
        this.conditionalWrites = new ConditionalWrites(this);
    }

    /**
     * Once the last store is closed, stops the AWS CRT's shared event-loop and resolver threads (a later store starts
     * new ones). Left running, the native library's exit handlers wait for them: 0.3 to 1.3 s added to the end of
     * every command that used S3 (measured on `ferry ls`). Bounded: a store opened meanwhile on another thread holds
     * CRT resources, and the wait for none must not hold this close for long.
     */
    private static void stopNativeThreads() {
        Thread release = Thread.ofPlatform().daemon().name("ferry-s3-release").start(() -> {
            try {
                CrtResource.waitForNoResources();
            } catch (RuntimeException e) {
                // resources still held after a minute: a store opened meanwhile uses them
            }
        });
        try {
            release.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static S3AsyncClient newClient(S3Config config) {
        if (config.caBundle() != null) {
            config.caBundle().installAsJavaTrustStore();
        }
        // A connection that moves less than 1 byte/s for this long is dropped; the attempt timeout bounds a request.
        // (The CRT client measures throughput over whole seconds: at least 2.)
        Duration idle = config.idleTimeout();
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                // The AWS Common Runtime's HTTP client (native I/O): measured here against the SDK's Netty client,
                // 15% faster for large downloads and 15-25% more small objects per second, at less CPU per byte.
                .httpClientBuilder(AwsCrtAsyncHttpClient.builder()
                        .maxConcurrency(config.maxConcurrency())
                        .connectionTimeout(config.connectTimeout())
                        // Trust the store javax.net.ssl.trustStore names when it is set (AWS_CA_BUNDLE sets it), as
                        // the JDK's client does; else the operating system's.
                        .useTrustStoreSystemProperties(true)
                        .connectionHealthConfiguration(health -> health
                                .minimumThroughputInBps(1L)
                                .minimumThroughputTimeout(idle))
                        .tcpKeepAliveConfiguration(keepAlive -> keepAlive
                                .keepAliveInterval(Duration.ofSeconds(30))
                                .keepAliveTimeout(Duration.ofSeconds(10))))
                .region(Region.of(config.region()))
                .credentialsProvider(config.credentials())
                .forcePathStyle(config.pathStyle())
                .crossRegionAccessEnabled(config.endpoint() == null)
                .requestChecksumCalculation(config.requestChecksumCalculation())
                .responseChecksumValidation(config.responseChecksumValidation())
                // Not AUTO, which may ask the instance metadata service for the region.
                .defaultsMode(DefaultsMode.STANDARD)
                // Complete futures on the HTTP client's event loop rather than hand each one to another thread pool:
                // every callback Ferry attaches is short and never blocks, and the hop cost CPU on every request.
                .asyncConfiguration(async -> async.advancedOption(
                        SdkAdvancedAsyncClientOption.FUTURE_COMPLETION_EXECUTOR, Runnable::run))
                .overrideConfiguration(o -> o.apiCallAttemptTimeout(config.attemptTimeout())
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                .maxAttempts(config.maxAttempts())
                                .build())
                        // Everything the SDK would read from the user's profile files and AWS_ENDPOINT_URL* in the
                        // process environment already came from the given map: tell it to look no further.
                        .defaultProfileFile(ProfileFile.builder()
                                .content("[profile " + SDK_PROFILE + "]\nignore_configured_endpoint_urls = true\n")
                                .type(ProfileFile.Type.CONFIGURATION)
                                .build())
                        .defaultProfileName(SDK_PROFILE));
        if (config.endpoint() != null) {
            builder.endpointOverride(config.endpoint());
            if (config.pathStyle()) {
                // A fixed endpoint with path-style addressing needs none of the SDK's endpoint rules, which it would
                // otherwise evaluate for every request: a cost that shows with many small objects.
                String base = config.endpoint().toString().replaceAll("/+$", "");
                builder.endpointProvider(params -> CompletableFuture.completedFuture(
                        Endpoint.builder().url(URI.create(base + "/" + params.bucket())).build()));
            }
        }
        return builder.build();
    }

    S3Config config() {
        return config;
    }

    synchronized S3AsyncClient client() {
        if (client == null) {
            if (closed.get()) {
                throw new IllegalStateException("the S3 store is closed");
            }
            client = newClient(config);
            OPEN.incrementAndGet();
        }
        return client;
    }

    /** The direct client, or null when every request goes through the SDK. */
    S3Http http() {
        return http;
    }

    S3Errors errors() {
        return errors;
    }

    long singleCopyLimit() {
        return singleCopyLimit;
    }

    UploadJournal uploads() {
        return uploads;
    }

    /**
     * Aborts the multipart uploads that processes killed half way left behind on this host, once per store, before
     * its first write. Best effort: an upload that cannot be aborted now stays recorded for the next time.
     */
    private void abortOrphanedUploads() {
        if (uploads == null || !orphansAborted.compareAndSet(false, true)) {
            return;
        }
        try {
            for (UploadJournal.Orphan orphan : uploads.orphans()) {
                Location location = Location.of("s3://" + orphan.bucket() + "/" + orphan.key());
                try {
                    await(client().abortMultipartUpload(b -> b.bucket(orphan.bucket()).key(orphan.key())
                            .uploadId(orphan.uploadId())), location, "abort an interrupted upload of");
                    uploads.forget(orphan.file());
                } catch (ObjectNotFoundException e) {
                    uploads.forget(orphan.file()); // the upload (or its bucket) is gone already
                } catch (IOException e) {
                    if (e.getCause() != null && S3Errors.hasStatus(e.getCause(), 404)) {
                        uploads.forget(orphan.file());
                    }
                }
            }
        } catch (IOException e) {
            // the journal cannot be read now; the next store will try again
        }
    }

    /** Waits for a request; failures become Ferry's errors naming {@code location}. */
    <T> T await(CompletableFuture<T> future, Location location, String action) throws IOException {
        try {
            return waitFor(future);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while trying to " + action + " " + location);
        } catch (ExecutionException e) {
            throw errors.map(e.getCause(), location, action);
        }
    }

    /**
     * Waits for a request. The SDK's client sometimes loses a connection attempt that was refused and then waits for
     * the whole attempt timeout; so while a request is slow to answer, check that the endpoint still accepts
     * connections, and fail at once (as refused) when it does not.
     */
    <T> T waitFor(CompletableFuture<T> future) throws ExecutionException, InterruptedException {
        while (true) {
            try {
                return future.get(REACHABILITY_CHECK.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                ConnectException refused = refusesConnections();
                if (refused != null) {
                    future.cancel(true);
                    throw new ExecutionException(refused);
                }
            }
        }
    }

    private static final Duration REACHABILITY_CHECK = Duration.ofSeconds(3);

    /** A refusal when the configured endpoint does not accept a TCP connection now, else null. */
    private ConnectException refusesConnections() {
        URI endpoint = config.endpoint();
        if (endpoint == null || endpoint.getHost() == null) {
            return null; // AWS itself: the SDK's own timeouts apply
        }
        int port = endpoint.getPort() > 0 ? endpoint.getPort() : "https".equals(endpoint.getScheme()) ? 443 : 80;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(endpoint.getHost(), port), (int) REACHABILITY_CHECK.toMillis());
            return null;
        } catch (ConnectException e) {
            return e;
        } catch (IOException e) {
            return null; // a timeout or another doubt: keep waiting for the request's own answer
        }
    }

    @Override
    public ObjectInfo stat(Location location) throws IOException {
        requireObject(location);
        if (http != null) {
            try {
                return info(location, http.head(location));
            } catch (IOException | RuntimeException e) {
                throw failure(e, location, "stat");
            }
        }
        HeadObjectResponse head;
        try {
            head = await(client().headObject(b -> b.bucket(location.bucket()).key(location.path())), location, "stat");
        } catch (ObjectNotFoundException e) {
            throw notFound(location, e);
        }
        return new ObjectInfo(location, head.contentLength(), lastModified(head.lastModified(), head),
                etag(head.eTag()), crc32c(head.metadata()));
    }

    /** One page of ListObjectsV2 of the keys that start with {@code prefix}, grouped at {@code /}. */
    CompletableFuture<ListPage> listPage(String bucket, String prefix, int maxKeys, String token) {
        if (http != null) {
            return http.list(bucket, prefix, "/", maxKeys, token);
        }
        return client().listObjectsV2(b -> b.bucket(bucket).prefix(prefix).delimiter("/").maxKeys(maxKeys)
                .encodingType(EncodingType.URL).continuationToken(token)).thenApply(ListPage::of);
    }

    @Override
    public ObjectListing list(Location prefix) throws IOException {
        requireS3(prefix);
        return new S3Listing(this, prefix);
    }

    @Override
    public FolderListing listFolder(Location folder) throws IOException {
        requireS3(folder);
        if (!folder.isDirectory()) {
            throw new IllegalArgumentException("not a folder (add a trailing /): " + folder);
        }
        return S3Listing.folder(this, folder);
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        requireObject(location);
        S3InputStream whole = get(location, null);
        if (http == null) {
            return whole; // the SDK's client splits a large read into ranged GETs itself
        }
        return PartedRead.open(whole, (start, end) -> rangeGet(location, start, end),
                config.partSize(), streamedPutLimit);
    }

    /** A GET of bytes [start, end) over {@link S3Http}. */
    private S3InputStream rangeGet(Location location, long start, long end) throws IOException {
        return get(location, "bytes=" + start + "-" + (end - 1));
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        requireObject(location);
        if (position < 0 || length < 0) {
            throw new IllegalArgumentException(
                    "negative position " + position + " or length " + length + " for " + location);
        }
        if (length == 0) {
            return new EmptyRead(stat(location));
        }
        String range = length > Long.MAX_VALUE - position
                ? "bytes=" + position + "-"
                : "bytes=" + position + "-" + (position + length - 1);
        try {
            return get(location, range);
        } catch (RangeNotSatisfiable e) {
            // The object exists but ends before position (or is empty): nothing to read, as with a file.
            return new EmptyRead(stat(location));
        }
    }

    /** A ranged read that starts past the end of the object. */
    private static final class RangeNotSatisfiable extends IOException {
        RangeNotSatisfiable(Throwable cause) {
            super(cause);
        }
    }

    /** A read of no bytes of an object that exists. */
    private static final class EmptyRead extends ObjectInputStream {
        private final ObjectInfo info;

        EmptyRead(ObjectInfo info) {
            this.info = info;
        }

        @Override
        public ObjectInfo info() {
            return info;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return len == 0 ? 0 : -1;
        }
    }

    /** Reads the object, or {@code range} of it ({@code bytes=0-99}) when not null. */
    private S3InputStream get(Location location, String range) throws IOException {
        try {
            return http != null ? directGet(location, range) : sdkGet(location, range);
        } catch (IOException | RuntimeException e) {
            if (S3Errors.hasStatus(e, 416)) {
                throw new RangeNotSatisfiable(e);
            }
            throw failure(e, location, "read");
        }
    }

    /** Ferry's error for a failed read of an object; a not-found one says whether the bucket is missing. */
    private IOException failure(Throwable failure, Location location, String action) throws IOException {
        IOException mapped = errors.map(failure, location, action);
        return mapped instanceof ObjectNotFoundException notFound ? notFound(location, notFound) : mapped;
    }

    private S3InputStream directGet(Location location, String range) throws IOException {
        S3Http.Read response = http.get(location, range);
        if (ignoredRange(range, response.headers().firstValue("Content-Range").orElse(null))) {
            response.body().close();
            throw rangeIgnored(location);
        }
        long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        // Closing the JDK's stream before its end drops the connection: no abort of its own is needed.
        return new S3InputStream(response.body(), () -> { }, info(location, response.headers()), length, errors);
    }

    /**
     * Whether a server answered a read from past the start with the whole object (HTTP allows a server to ignore a
     * Range): its bytes would be taken for those of the range.
     */
    private static boolean ignoredRange(String range, String contentRange) {
        return range != null && !range.startsWith("bytes=0-") && contentRange == null;
    }

    private StoreException rangeIgnored(Location location) {
        return new StoreException(location, "S3 endpoint " + config.endpointText() + " answered a ranged read of "
                + location + " with the whole object: Ferry needs ranged GETs (HTTP Range), which this server or a"
                + " proxy in between ignores");
    }

    /** What the headers of a GetObject or HeadObject answer say about the object. */
    private static ObjectInfo info(Location location, HttpHeaders headers) {
        long bodyLength = headers.firstValueAsLong("Content-Length").orElse(-1);
        return new ObjectInfo(location, objectSize(headers.firstValue("Content-Range").orElse(null), bodyLength),
                lastModified(null,
                        headers.firstValue("Last-Modified").or(() -> headers.firstValue("Date")).orElse(null)),
                etag(headers.firstValue("ETag").orElse(null)),
                crc32c(headers.firstValue("x-amz-meta-" + CRC32C_METADATA).orElse(null)));
    }

    private S3InputStream sdkGet(Location location, String range) throws IOException {
        GetObjectRequest request = GetObjectRequest.builder()
                .bucket(location.bucket())
                .key(location.path())
                .range(range)
                .build();
        CompletableFuture<ResponseInputStream<GetObjectResponse>> future =
                client().getObject(request, AsyncResponseTransformer.toBlockingInputStream());
        ResponseInputStream<GetObjectResponse> response;
        try {
            response = waitFor(future);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while trying to read " + location);
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause()); // mapped by get, as S3Http's failures are
        }
        GetObjectResponse got = response.response();
        if (ignoredRange(range, got.contentRange())) {
            response.abort();
            throw rangeIgnored(location);
        }
        long length = got.contentLength() == null ? -1 : got.contentLength();
        ObjectInfo info = new ObjectInfo(location, objectSize(got.contentRange(), length),
                lastModified(got.lastModified(), got), etag(got.eTag()), crc32c(got.metadata()));
        return new S3InputStream(response, response::abort, info, length, errors);
    }

    @Override
    public ObjectOutput create(Location location, WriteOptions options) throws IOException {
        requireObjectName(location, "write");
        Objects.requireNonNull(options, "options is null");
        conditionalWrites.requireSupport(location);
        abortOrphanedUploads();
        return newOutput(location, options, true);
    }

    @Override
    public ObjectOutput createOrOverwrite(Location location, WriteOptions options) throws IOException {
        requireObjectName(location, "write");
        Objects.requireNonNull(options, "options is null");
        abortOrphanedUploads();
        return newOutput(location, options, false);
    }

    private ObjectOutput newOutput(Location location, WriteOptions options, boolean exclusive) {
        return S3StreamedPut.suits(options, config.partSize(), streamedPutLimit)
                ? new S3StreamedPut(this, location, options, exclusive)
                : new S3Output(this, location, options, exclusive);
    }

    /**
     * CopyObject, on condition that the source is still the version whose CRC32C is known (from the listing, else
     * from a HEAD of Ferry's metadata, which the copy keeps). Objects with no CRC32C Ferry recorded, and objects over
     * CopyObject's 5 GiB, are left to the caller, which reads them once and so learns their CRC32C.
     */
    @Override
    public Optional<ObjectInfo> copyWithin(ObjectInfo source, Location target) throws IOException {
        requireObjectName(target, "write");
        if (source.size() > singleCopyLimit) {
            return Optional.empty();
        }
        ObjectInfo version = source.crc32c() != null ? source : stat(source.location());
        if (version.crc32c() == null) {
            return Optional.empty();
        }
        if (version.size() != source.size()) {
            throw changedDuringCopy(source, version.size());
        }
        Location from = source.location();
        if (from.equals(target)) {
            return Optional.of(version); // already there: S3 refuses a copy onto itself that changes nothing
        }
        CopyObjectResponse copy;
        try {
            copy = await(client().copyObject(b -> b.sourceBucket(from.bucket()).sourceKey(from.path())
                    .destinationBucket(target.bucket()).destinationKey(target.path())
                    .copySourceIfMatch("\"" + version.etag() + "\"")), target, "write");
        } catch (ObjectExistsException e) { // 412: the source's ETag is no longer the one listed
            throw changedDuringCopy(source, -1);
        } catch (ObjectNotFoundException e) {
            Optional<ObjectInfo> now = find(from);
            if (now.isEmpty()) {
                throw new ObjectNotFoundException(from);
            }
            throw e; // the target's bucket is missing
        }
        return Optional.of(new ObjectInfo(target, source.size(),
                lastModified(copy.copyObjectResult().lastModified(), copy), etag(copy.copyObjectResult().eTag()),
                version.crc32c()));
    }

    private static StoreException changedDuringCopy(ObjectInfo source, long size) {
        return new StoreException(source.location(), source.location() + " changed during the copy (listed "
                + source.size() + " bytes" + (size < 0 ? "" : ", now " + size) + "): copy again");
    }

    @Override
    public void delete(Location location) throws IOException {
        requireObjectName(location, "delete");
        await(client().deleteObject(b -> b.bucket(location.bucket()).key(location.path())), location, "delete");
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (http != null) {
                http.close();
            }
            S3AsyncClient made;
            synchronized (this) {
                made = client;
            }
            if (made != null) {
                made.close();
                if (OPEN.decrementAndGet() == 0) {
                    stopNativeThreads();
                }
            }
        }
    }

    /**
     * A not-found error that says whether the bucket is missing: a HEAD answers 404 without a body either way, so
     * ask once per bucket.
     */
    ObjectNotFoundException notFound(Location location, ObjectNotFoundException original) throws IOException {
        if (original.getMessage().contains("does not exist") || existingBuckets.contains(location.bucket())) {
            return original;
        }
        try {
            if (http != null) {
                try {
                    http.headBucket(location.bucket());
                } catch (IOException | RuntimeException e) {
                    throw errors.map(e, location, "stat");
                }
            } else {
                await(client().headBucket(b -> b.bucket(location.bucket())), location, "stat");
            }
        } catch (ObjectNotFoundException e) {
            return new ObjectNotFoundException(location, errors.noSuchBucket(location));
        }
        existingBuckets.add(location.bucket());
        return original;
    }

    private static void requireS3(Location location) {
        Objects.requireNonNull(location, "location is null");
        if (!location.scheme().equals(Location.S3)) {
            throw new IllegalArgumentException("not an s3:// location: " + location);
        }
    }

    private static void requireObject(Location location) throws ObjectNotFoundException {
        requireS3(location);
        if (location.isDirectory()) {
            throw new ObjectNotFoundException(location, "not an object: " + location + " names a prefix (a folder)");
        }
    }

    private static void requireObjectName(Location location, String action) {
        requireS3(location);
        if (location.isDirectory()) {
            throw new IllegalArgumentException("cannot " + action + " an object at a prefix (a folder): " + location);
        }
    }

    /** The whole object's size: the total in a Content-Range ({@code bytes 0-99/1234}), else the body's length. */
    static long objectSize(String contentRange, long bodyLength) {
        if (contentRange != null) {
            int slash = contentRange.lastIndexOf('/');
            if (slash >= 0 && !contentRange.endsWith("*")) {
                try {
                    return Long.parseLong(contentRange.substring(slash + 1).strip());
                } catch (NumberFormatException e) {
                    // fall back to the body's length
                }
            }
        }
        return Math.max(bodyLength, 0);
    }

    /** The ETag without its quotes, the same from every request. */
    static String etag(String etag) {
        return etag == null ? "" : etag.replace("\"", "");
    }

    /** The recorded CRC32C, or null when the object has none (or something else put junk there). */
    static String crc32c(Map<String, String> metadata) {
        return crc32c(metadataValue(metadata, CRC32C_METADATA));
    }

    /** A recorded CRC32C value, or null when it is missing or junk. */
    static String crc32c(String value) {
        if (value == null || value.length() != 8) {
            return null;
        }
        for (int i = 0; i < 8; i++) {
            if (!HexFormat.isHexDigit(value.charAt(i))) {
                return null;
            }
        }
        return value.toLowerCase(Locale.ROOT);
    }

    /** A user metadata value; names are compared ignoring case, as HTTP headers are. */
    static String metadataValue(Map<String, String> metadata, String name) {
        if (metadata == null) {
            return null;
        }
        String value = metadata.get(name);
        if (value != null) {
            return value;
        }
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
            if (entry.getKey().equalsIgnoreCase(name)) {
                return entry.getValue();
            }
        }
        return null;
    }

    /** {@code lastModified}, else the response's Date header, else now. */
    static Instant lastModified(Instant lastModified, SdkResponse response) {
        return lastModified(lastModified, response.sdkHttpResponse().firstMatchingHeader("Date").orElse(null));
    }

    /** {@code lastModified}, else {@code httpDate} (RFC 1123, as in Last-Modified and Date headers), else now. */
    static Instant lastModified(Instant lastModified, String httpDate) {
        if (lastModified != null) {
            return lastModified;
        }
        if (httpDate != null) {
            HttpDate last = lastDate;
            if (last != null && last.text.equals(httpDate)) {
                return last.instant;
            }
            try {
                Instant parsed = ZonedDateTime.parse(httpDate, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                lastDate = new HttpDate(httpDate, parsed);
                return parsed;
            } catch (DateTimeParseException e) {
                // fall back to now
            }
        }
        return Instant.now();
    }

    /** The last date parsed: objects written together share one, and parsing costs more than the rest of a stat. */
    private static volatile HttpDate lastDate;

    private record HttpDate(String text, Instant instant) {
    }
}
