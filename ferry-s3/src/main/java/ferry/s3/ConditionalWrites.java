package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.StoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.async.AsyncRequestBody;

/**
 * Whether a bucket honours {@code If-None-Match: *} on writes, found out once per bucket before the first exclusive
 * create. Some S3-compatible servers (s3proxy 2.6.0 among them) accept the header and ignore it, which would turn
 * every exclusive create into a silent overwrite; Ferry fails closed there instead.
 *
 * <p>The probe writes a small object under the {@value #PROBE_PREFIX} folder nearest the key ({@link #probeFolder}),
 * writes it again with the condition, expects 412 PreconditionFailed, and deletes it.
 */
final class ConditionalWrites {
    static final String PROBE_PREFIX = ".ferry/probe/";

    private final S3Store store;
    private final Map<String, Boolean> supported = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> probing = new ConcurrentHashMap<>();

    ConditionalWrites(S3Store store) {
        this.store = store;
    }

    /**
     * Where to probe for a write of {@code key}: the {@code .ferry/} folder on its path (a dataset manifest's), else
     * one beside it. Never the bucket's root, which credentials granted one prefix may not write.
     */
    static String probeFolder(String key) {
        String folder;
        if (key.startsWith(".ferry/")) {
            folder = "";
        } else if (key.contains("/.ferry/")) {
            folder = key.substring(0, key.indexOf("/.ferry/") + 1);
        } else {
            folder = key.substring(0, key.lastIndexOf('/') + 1);
        }
        return folder + PROBE_PREFIX;
    }

    /** Returns if the bucket of {@code location} honours conditional writes, else throws saying it does not. */
    void requireSupport(Location location) throws IOException {
        String bucket = location.bucket();
        Boolean known = supported.get(bucket);
        if (known == null) {
            ReentrantLock lock = probing.computeIfAbsent(bucket, b -> new ReentrantLock());
            lock.lock();
            try {
                known = supported.get(bucket);
                if (known == null) {
                    known = probe(location);
                    supported.put(bucket, known);
                }
            } finally {
                lock.unlock();
            }
        }
        if (!known) {
            throw new StoreException(location, "the S3 store at " + store.config().endpointText()
                    + " does not support conditional writes: it ignored If-None-Match: * on bucket '" + bucket
                    + "' (tested with an object under " + probeFolder(location.path()) + "), so Ferry will not create "
                    + location + " exclusively, as a concurrent writer could silently replace it; use a store that"
                    + " honours If-None-Match on PutObject and CompleteMultipartUpload (AWS S3 and MinIO do)");
        }
    }

    private boolean probe(Location location) throws IOException {
        Location probe = Location.of("s3://" + location.bucket() + "/" + probeFolder(location.path())
                + UUID.randomUUID());
        byte[] bytes = "ferry conditional write probe".getBytes(StandardCharsets.UTF_8);
        store.await(store.client().putObject(b -> b.bucket(probe.bucket()).key(probe.path()),
                AsyncRequestBody.fromBytes(bytes)), probe, "write");
        boolean honoured;
        try {
            store.await(store.client().putObject(b -> b.bucket(probe.bucket()).key(probe.path()).ifNoneMatch("*"),
                    AsyncRequestBody.fromBytes(bytes)), probe, "write");
            honoured = false;
        } catch (ObjectExistsException e) {
            honoured = true;
        } catch (StoreException e) {
            // A server that refuses the header outright does not support it either.
            if (e.getCause() instanceof AwsServiceException s
                    && (s.statusCode() == 501 || S3Errors.errorCode(s).equals("NotImplemented"))) {
                honoured = false;
            } else {
                try {
                    store.delete(probe);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        }
        store.delete(probe);
        return honoured;
    }
}
