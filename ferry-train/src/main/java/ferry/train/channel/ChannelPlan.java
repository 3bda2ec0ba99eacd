package ferry.train.channel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.transfer.Parallel;
import ferry.transfer.SafeKeys;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one host of a File channel receives: the objects of its source (a prefix, a manifest file or an augmented
 * manifest, CONTRACT.md section 4) that its share gives it, each with the key it takes below the channel folder.
 * Made before anything is staged, so that the sizes can be checked against the free space first.
 *
 * <ul>
 *   <li>S3Prefix: every object whose key starts with the prefix, named as {@link PrefixScope} says: below the
 *       prefix when it is a folder, else below its parent folder (the URI of one object delivers it by its name).
 *   <li>ManifestFile: the keys listed, relative to the manifest's {@code prefix}, kept as they are.
 *   <li>AugmentedManifestFile: each object named by a {@code -ref} attribute, at its key in its bucket (its path
 *       for a local object), plus the manifest itself under its own name, holding the selected attributes of this
 *       host's lines in order. Sharding deals lines, not objects.
 * </ul>
 *
 * @param channel the channel's name
 * @param objects this host's files, in key order
 * @param totalItems objects (or manifest lines) in the source, across every host
 * @param sharedItems how many of them went to this host
 */
public record ChannelPlan(String channel, List<SourceObject> objects, long totalItems, long sharedItems) {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    public ChannelPlan {
        objects = List.copyOf(objects);
    }

    /** Bytes this host will stage. */
    public long bytes() {
        return objects.stream().mapToLong(SourceObject::size).sum();
    }

    /** One dealing unit: an object, or one line of an augmented manifest with the objects it names. */
    private record Item(String sortKey, List<SourceObject> objects, String line) {}

    /**
     * Lists or reads the channel's source and deals this host its share.
     *
     * @param hostIndex this host's place in the host list, from 0
     * @param concurrency requests in flight at once while looking up objects
     */
    public static ChannelPlan of(ChannelSpec channel, Stores stores, int hostIndex, int hostCount, int concurrency)
            throws IOException, InterruptedException {
        S3Source source = (S3Source) channel.source();
        ObjectStore store;
        try {
            store = stores.forLocation(source.uri());
        } catch (IllegalArgumentException e) {
            throw new ChannelException(channel.name(), e.getMessage());
        }
        List<Item> items = switch (source.dataType()) {
            case S3Prefix -> prefixItems(channel.name(), source.uri(), store);
            case ManifestFile -> manifestItems(channel.name(), source.uri(), store, stores, concurrency);
            case AugmentedManifestFile -> augmentedItems(channel.name(), source, store, stores, concurrency);
        };
        items = new ArrayList<>(items);
        items.sort(Comparator.comparing(Item::sortKey));
        List<Item> share = source.distribution() == S3Source.Distribution.ShardedByS3Key
                ? Sharding.share(items, hostIndex, hostCount, channel.shuffleSeed(), 0)
                : items;

        Map<String, SourceObject> objects = new LinkedHashMap<>();
        StringBuilder manifest = new StringBuilder();
        for (Item item : share) {
            for (SourceObject object : item.objects()) {
                SafeKeys.checkSyntax(object.key());
                objects.putIfAbsent(object.key(), object);
            }
            if (item.line() != null) {
                manifest.append(item.line()).append('\n');
            }
        }
        if (source.dataType() == S3Source.DataType.AugmentedManifestFile) {
            String name = source.uri().name();
            objects.put(name, SourceObject.made(name, manifest.toString().getBytes(StandardCharsets.UTF_8)));
        }
        List<SourceObject> sorted = new ArrayList<>(objects.values());
        sorted.sort(Comparator.comparing(SourceObject::key));
        return new ChannelPlan(channel.name(), sorted, items.size(), share.size());
    }

    private static List<Item> prefixItems(String channel, Location uri, ObjectStore store) throws IOException {
        PrefixScope scope = PrefixScope.of(channel, uri, store);
        List<Item> items = new ArrayList<>();
        ObjectListing listing = store.list(scope.listed());
        while (listing.hasNext()) {
            ObjectInfo info = listing.next();
            String key = scope.base().relativize(info.location());
            items.add(item(SourceObject.of(key, info.location(), info.size(), info.crc32c())));
        }
        if (items.isEmpty()) {
            Location prefix = scope.listed();
            throw new ChannelException(channel, "no objects under " + prefix + ": check S3Uri, or upload the data"
                    + " first (ferry cp FOLDER " + prefix + ")");
        }
        return items;
    }

    private static Item item(SourceObject object) {
        return new Item(object.key(), List.of(object), null);
    }

    private static List<Item> manifestItems(
            String channel, Location uri, ObjectStore store, Stores stores, int concurrency)
            throws IOException, InterruptedException {
        JsonNode manifest;
        try (InputStream in = openManifest(channel, uri, store)) {
            manifest = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ChannelException(channel, "the manifest file " + uri + " is not valid JSON: "
                    + e.getOriginalMessage());
        }
        String shape = "a manifest file is a JSON list whose first element is {\"prefix\": \"s3://bucket/base/\"}"
                + " and whose other elements are keys below it";
        if (manifest == null || !manifest.isArray() || manifest.isEmpty() || !manifest.get(0).isObject()
                || !manifest.get(0).path("prefix").isTextual()) {
            throw new ChannelException(channel, uri + " is not a manifest file: " + shape);
        }
        Location prefix;
        try {
            prefix = Location.of(manifest.get(0).get("prefix").asText()).asDirectory();
        } catch (IllegalArgumentException e) {
            throw new ChannelException(channel, "the prefix of manifest file " + uri + ": " + e.getMessage());
        }
        checkNotLocal(channel, uri, prefix);
        List<String> keys = new ArrayList<>();
        for (int i = 1; i < manifest.size(); i++) {
            JsonNode key = manifest.get(i);
            if (!key.isTextual() || key.asText().isEmpty()) {
                throw new ChannelException(channel, "element " + i + " of manifest file " + uri + " is not a key: "
                        + shape);
            }
            SafeKeys.checkSyntax(key.asText()); // before any lookup: such a key never reaches the disk
            keys.add(key.asText());
        }
        if (keys.isEmpty()) {
            throw new ChannelException(channel, "manifest file " + uri + " lists no objects");
        }
        Map<Location, ObjectInfo> infos = statAll(channel, uri, keys.stream().map(prefix::resolve).toList(), stores,
                concurrency);
        List<Item> items = new ArrayList<>();
        for (String key : keys) {
            ObjectInfo info = infos.get(prefix.resolve(key));
            items.add(item(SourceObject.of(key, info.location(), info.size(), info.crc32c())));
        }
        return items;
    }

    private static List<Item> augmentedItems(
            String channel, S3Source source, ObjectStore store, Stores stores, int concurrency)
            throws IOException, InterruptedException {
        Location uri = source.uri();
        List<ObjectNode> lines = new ArrayList<>();
        List<List<Location>> refs = new ArrayList<>();
        List<Location> all = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(openManifest(channel, uri, store), StandardCharsets.UTF_8))) {
            String text;
            int number = 0;
            while ((text = reader.readLine()) != null) {
                number++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode line;
                try {
                    line = JSON.readTree(text);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new ChannelException(channel, "line " + number + " of augmented manifest " + uri
                            + " is not valid JSON: " + e.getOriginalMessage());
                }
                if (line == null || !line.isObject()) {
                    throw new ChannelException(channel, "line " + number + " of augmented manifest " + uri
                            + " is not a JSON object");
                }
                ObjectNode selected = JSON.createObjectNode();
                List<Location> lineRefs = new ArrayList<>();
                for (String attribute : source.attributeNames()) {
                    JsonNode value = line.get(attribute);
                    if (value == null) {
                        throw new ChannelException(channel, "line " + number + " of augmented manifest " + uri
                                + " has no attribute '" + attribute + "' (AttributeNames lists it): fix the line or"
                                + " AttributeNames");
                    }
                    selected.set(attribute, value);
                    if (attribute.endsWith("-ref")) {
                        try {
                            Location ref = Location.of(value.asText());
                            checkNotLocal(channel, uri, ref);
                            lineRefs.add(ref);
                            all.add(ref);
                        } catch (IllegalArgumentException e) {
                            throw new ChannelException(channel, "attribute '" + attribute + "' on line " + number
                                    + " of " + uri + " is not an object URI: " + e.getMessage());
                        }
                    }
                }
                lines.add(selected);
                refs.add(lineRefs);
            }
        }
        if (lines.isEmpty()) {
            throw new ChannelException(channel, "augmented manifest " + uri + " has no lines");
        }
        Map<Location, ObjectInfo> infos = statAll(channel, uri, all, stores, concurrency);
        List<Item> items = new ArrayList<>();
        int width = Integer.toString(lines.size()).length();
        for (int i = 0; i < lines.size(); i++) {
            List<SourceObject> objects = new ArrayList<>();
            for (Location ref : refs.get(i)) {
                ObjectInfo info = infos.get(ref);
                String key = ref.isLocal() ? ref.path().substring(1) : ref.path();
                objects.add(SourceObject.of(key, ref, info.size(), info.crc32c()));
            }
            String sortKey = String.format("%0" + width + "d", i);
            items.add(new Item(sortKey, objects, JSON.writeValueAsString(lines.get(i))));
        }
        return items;
    }

    /**
     * A manifest kept in a bucket may name objects in buckets only, as on SageMaker: one that named files on this
     * machine would let whoever writes to the bucket copy them into the job.
     */
    private static void checkNotLocal(String channel, Location manifest, Location named) throws ChannelException {
        if (!manifest.isLocal() && named.isLocal()) {
            throw new ChannelException(channel, "the manifest " + manifest + " is in a bucket but names a file on this"
                    + " machine (" + named + "): a manifest in a bucket may name only objects in buckets (s3://...)");
        }
    }

    private static InputStream openManifest(String channel, Location uri, ObjectStore store) throws IOException {
        try {
            return store.openStream(uri);
        } catch (ObjectNotFoundException e) {
            throw new ChannelException(channel, "the manifest " + uri + " does not exist: check S3Uri");
        }
    }

    /** Looks up every location once, in parallel; a missing one is an error naming it and the manifest. */
    private static Map<Location, ObjectInfo> statAll(
            String channel, Location manifest, List<Location> locations, Stores stores, int concurrency)
            throws IOException, InterruptedException {
        Map<Location, ObjectInfo> infos = new ConcurrentHashMap<>();
        Map<Location, IOException> failures = Collections.synchronizedMap(new LinkedHashMap<>());
        try (Parallel parallel = new Parallel(concurrency)) {
            for (Location location : new java.util.LinkedHashSet<>(locations)) {
                parallel.submit(() -> {
                    try {
                        infos.put(location, stores.forLocation(location).stat(location));
                    } catch (IOException e) {
                        failures.put(location, e);
                    } catch (IllegalArgumentException e) {
                        failures.put(location, new IOException(e.getMessage(), e));
                    }
                });
            }
        }
        if (!failures.isEmpty()) {
            Map.Entry<Location, IOException> first = failures.entrySet().stream()
                    .min(Map.Entry.comparingByKey()).orElseThrow();
            String what = first.getValue() instanceof ObjectNotFoundException
                    ? first.getKey() + " does not exist"
                    : first.getValue().getMessage();
            throw new ChannelException(channel, failures.size() + " object(s) named by " + manifest
                    + " cannot be read; the first: " + what, first.getValue());
        }
        return infos;
    }
}
