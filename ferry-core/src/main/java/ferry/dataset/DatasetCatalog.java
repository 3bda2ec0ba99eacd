package ferry.dataset;

import ferry.checksum.ChecksumInputStream;
import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Keys;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.transfer.Failure;
import ferry.transfer.Parallel;
import ferry.transfer.SafeKeys;
import ferry.transfer.TransferListener;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The datasets kept in a store: each version is an immutable manifest at
 * {@code <store>/.ferry/datasets/<name>/v<N>.json}, created with an exclusive write so that two writers can never
 * both claim one version.
 */
public final class DatasetCatalog {
    private static final Pattern VERSION_FILE = Pattern.compile("v([0-9]{1,9})\\.json");

    private final Stores stores;
    private final Location root;
    private final Clock clock;
    private final int concurrency;

    /**
     * @param stores where manifests and data are read and written
     * @param store the store location that holds the catalog ({@code s3://bucket/} or a local folder)
     */
    public DatasetCatalog(Stores stores, Location store, Clock clock, int concurrency) {
        this.stores = stores;
        this.root = store.asDirectory().resolve(".ferry/datasets/");
        this.clock = clock;
        this.concurrency = concurrency;
    }

    /** Where a version's manifest lives. */
    public Location manifestLocation(String name, int version) {
        return root.resolve(DatasetRef.checkName(name) + "/v" + version + ".json");
    }

    /** The names of every dataset, sorted. */
    public List<String> names() throws IOException {
        TreeSet<String> names = new TreeSet<>();
        ObjectListing listing = stores.forLocation(root).list(root);
        while (listing.hasNext()) {
            String key = root.relativize(listing.next().location());
            int slash = key.indexOf('/');
            if (slash > 0 && VERSION_FILE.matcher(key.substring(slash + 1)).matches()) {
                names.add(key.substring(0, slash));
            }
        }
        return List.copyOf(names);
    }

    /** The versions of one dataset, ascending; empty if it has none. */
    public List<Integer> versions(String name) throws IOException {
        Location folder = root.resolve(DatasetRef.checkName(name) + "/");
        List<Integer> versions = new ArrayList<>();
        ObjectListing listing = stores.forLocation(folder).list(folder);
        while (listing.hasNext()) {
            Matcher m = VERSION_FILE.matcher(folder.relativize(listing.next().location()));
            if (m.matches()) {
                versions.add(Integer.parseInt(m.group(1)));
            }
        }
        Collections.sort(versions);
        return versions;
    }

    /** Loads one version, or the latest when the reference names none. */
    public Manifest load(DatasetRef ref) throws IOException {
        int version = ref.version();
        if (ref.isLatest()) {
            List<Integer> versions = versions(ref.name());
            if (versions.isEmpty()) {
                throw new ObjectNotFoundException(root.resolve(ref.name() + "/"),
                        "no dataset named '" + ref.name() + "' in " + root + ": see 'ferry dataset ls'");
            }
            version = versions.getLast();
        }
        Location location = manifestLocation(ref.name(), version);
        Manifest manifest;
        try (InputStream in = stores.forLocation(location).openStream(location)) {
            manifest = ManifestCodec.fromJson(in, location);
        } catch (ObjectNotFoundException e) {
            throw new ObjectNotFoundException(location, "dataset " + ref + " does not exist (no " + location + ")");
        }
        if (!manifest.name().equals(ref.name()) || manifest.version() != version) {
            // Its place says which version it is: one copied there would show, verify and derive from another.
            throw ManifestCodec.invalid(location, "it says it is " + manifest.ref() + ", but it is stored as "
                    + new DatasetRef(ref.name(), version));
        }
        return manifest;
    }

    /**
     * Records every object under {@code source} as the next version of dataset {@code name}, reading each object
     * once to compute its CRC32C (and checking it against the CRC32C the store recorded, when it did).
     *
     * @param md5 also record each object's MD5, for comparison with the ETags of single-part S3 uploads
     * @param known CRC32Cs already known for some objects (by a sync that just moved them), which are then not read
     * @throws ObjectExistsException when another writer created the same version at the same time
     */
    public Manifest create(String name, Location source, boolean md5, KnownChecksums known, TransferListener listener)
            throws IOException, InterruptedException {
        DatasetRef.checkName(name);
        Location base = source.asDirectory();
        ObjectStore store = stores.forLocation(base);
        List<Manifest.Entry> entries = Collections.synchronizedList(new ArrayList<>());
        List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
        ObjectListing listing = store.list(base);
        if (!listing.hasNext()) {
            throw new ObjectNotFoundException(source, "no objects under " + base + ": nothing to make a dataset of");
        }
        try (Parallel parallel = new Parallel(concurrency)) {
            while (listing.hasNext()) {
                ObjectInfo object = listing.next();
                String key = base.relativize(object.location());
                if (Keys.isFerryRecord(key)) {
                    continue; // the catalog itself, when the store's root is inside the data
                }
                parallel.submit(() -> {
                    try {
                        String knownCrc = md5 ? null : known.crc32c(key, object);
                        Digests digests = knownCrc != null ? new Digests(knownCrc, null)
                                : read(store, object.location(), object.size(), object.crc32c(), md5);
                        entries.add(new Manifest.Entry(key, object.size(), digests.crc32c(), digests.md5(),
                                object.etag(), object.lastModified()));
                        listener.objectDone(key, object.size());
                    } catch (IOException | RuntimeException e) {
                        failures.add(new Failure(key, e.getMessage()));
                        listener.objectFailed(key, e);
                    }
                });
            }
        }
        listing.passedOver().forEach(listener::passedOver);
        if (!failures.isEmpty()) {
            Failure first = failures.getFirst();
            throw new StoreException(source, failures.size() + " object(s) under " + base + " could not be read, so no"
                    + " dataset version was written; first: " + first.key() + ": " + first.reason());
        }
        if (entries.isEmpty()) {
            throw new ObjectNotFoundException(source, "no objects under " + base + " besides Ferry's own records"
                    + " (.ferry/): nothing to make a dataset of");
        }
        entries.sort(Comparator.comparing(Manifest.Entry::key));
        SizeHistogram histogram = new SizeHistogram();
        long bytes = 0;
        for (Manifest.Entry entry : entries) {
            histogram.add(entry.size());
            bytes += entry.size();
        }
        List<Integer> existing = versions(name);
        int version = existing.isEmpty() ? 1 : existing.getLast() + 1;
        String derivedFrom = existing.isEmpty() ? null : new DatasetRef(name, existing.getLast()).toString();
        Manifest manifest = new Manifest(Manifest.FORMAT, name, version, base.toString(), clock.instant(), derivedFrom,
                new Manifest.Summary(entries.size(), bytes, histogram.classes()), entries);
        Location location = manifestLocation(name, version);
        byte[] json = ManifestCodec.toJson(manifest);
        // Size and CRC32C known up front: a large manifest goes to S3 as one conditional PUT, never as a multipart
        // upload, whose completion some servers accept without honouring If-None-Match.
        try (ObjectOutput out = stores.forLocation(location).create(location,
                WriteOptions.expecting(Crc32c.of(json), json.length))) {
            out.write(json);
            out.commit();
        } catch (ObjectExistsException e) {
            throw new ObjectExistsException(location, "dataset " + manifest.ref() + " was created by another writer"
                    + " at the same time; nothing was overwritten: run the command again to create the next version");
        }
        return manifest;
    }

    /** Re-reads every object of a version, in parallel, and reports each one that is missing or differs. */
    public VerifyReport verify(Manifest manifest, TransferListener listener) throws IOException, InterruptedException {
        Instant start = clock.instant();
        Location base = Location.of(manifest.base());
        ObjectStore store = stores.forLocation(base);
        List<Failure> mismatches = Collections.synchronizedList(new ArrayList<>());
        AtomicLong objects = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        try (Parallel parallel = new Parallel(concurrency)) {
            for (Manifest.Entry entry : manifest.entries()) {
                parallel.submit(() -> {
                    Location location = base.resolve(entry.key());
                    try {
                        if (base.isLocal()) {
                            SafeKeys.checkSyntax(entry.key()); // a tampered key must not read outside the folder
                        }
                        Digests digests = read(store, location, entry.size(), entry.crc32c(), entry.md5() != null);
                        if (entry.md5() != null && !entry.md5().equals(digests.md5())) {
                            throw new ChecksumMismatchException(location, "MD5", entry.md5(), digests.md5());
                        }
                        objects.incrementAndGet();
                        bytes.addAndGet(entry.size());
                        listener.objectDone(entry.key(), entry.size());
                    } catch (ObjectNotFoundException e) {
                        mismatches.add(new Failure(entry.key(), "missing: " + location));
                        listener.objectFailed(entry.key(), e);
                    } catch (IOException | RuntimeException e) {
                        mismatches.add(new Failure(entry.key(), e.getMessage()));
                        listener.objectFailed(entry.key(), e);
                    }
                });
            }
        }
        List<Failure> sorted = new ArrayList<>(mismatches);
        sorted.sort(Comparator.comparing(Failure::key));
        return new VerifyReport(manifest.ref().toString(), objects.get(), bytes.get(), List.copyOf(sorted),
                Duration.between(start, clock.instant()));
    }

    /** CRC32Cs known without reading, by key and object version. */
    @FunctionalInterface
    public interface KnownChecksums {
        KnownChecksums NONE = (key, object) -> null;

        /** The CRC32C of this version of the object, or {@code null} if it must be read. */
        String crc32c(String key, ObjectInfo object);
    }

    private record Digests(String crc32c, String md5) {}

    /** Reads an object once, checking its size and, when known, the CRC32C recorded for it. */
    private static Digests read(ObjectStore store, Location location, long size, String recorded, boolean md5)
            throws IOException {
        try (ObjectInputStream raw = store.openStream(location);
                ChecksumInputStream in = new ChecksumInputStream(raw, md5)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            if (recorded == null) {
                recorded = raw.info().crc32c(); // what the store's metadata says, when Ferry wrote the object
            }
            if (in.count() != size) {
                throw new StoreException(location, "size mismatch for " + location + ": expected " + size
                        + " bytes, read " + in.count());
            }
            String crc = in.crc32c();
            if (recorded != null && !recorded.equals(crc)) {
                throw new ChecksumMismatchException(location, "CRC32C", recorded, crc);
            }
            return new Digests(crc, md5 ? in.md5() : null);
        }
    }
}
