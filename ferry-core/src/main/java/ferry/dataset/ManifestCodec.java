package ferry.dataset;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import ferry.store.Location;
import ferry.store.StoreException;
import java.io.IOException;
import java.io.InputStream;

/** Reads and writes manifests as JSON; a manifest that does not parse is an error naming where it came from. */
public final class ManifestCodec {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .findAndAddModules()
            .addModule(new InstantModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private ManifestCodec() {}

    public static byte[] toJson(Manifest manifest) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest);
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot write manifest " + manifest.ref(), e);
        }
    }

    public static Manifest fromJson(InputStream in, Location source) throws IOException {
        Manifest manifest;
        try {
            JsonNode tree = MAPPER.readTree(in);
            String format = tree == null ? null : tree.path("format").asText(null);
            if (!Manifest.FORMAT.equals(format)) {
                throw invalid(source, "its format is " + format + ", expected " + Manifest.FORMAT);
            }
            manifest = MAPPER.treeToValue(tree, Manifest.class);
        } catch (JacksonException e) {
            throw invalid(source, e.getOriginalMessage());
        }
        if (manifest.base() == null || manifest.name() == null || manifest.summary() == null
                || manifest.createdAt() == null || manifest.summary().histogram() == null) {
            throw invalid(source, "it lacks name, base, createdAt, summary or the summary's histogram");
        }
        if (manifest.version() < 1) {
            throw invalid(source, "its version is " + manifest.version() + ", not 1 or more");
        }
        try {
            DatasetRef.checkName(manifest.name());
        } catch (IllegalArgumentException e) {
            throw invalid(source, "its name is not valid: " + e.getMessage());
        }
        try {
            Location.of(manifest.base());
        } catch (IllegalArgumentException e) {
            // else each command that reads the data would blame its own arguments for a damaged base
            throw invalid(source, "its base is not a location: " + e.getMessage());
        }
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry.key() == null || entry.crc32c() == null || !entry.crc32c().matches("[0-9a-f]{8}")) {
                throw invalid(source, "entry " + entry.key() + " has no key or no valid crc32c");
            }
            if (entry.size() < 0) {
                throw invalid(source, "entry " + entry.key() + " has a negative size, " + entry.size());
            }
        }
        return manifest;
    }

    static InvalidManifestException invalid(Location source, String why) {
        return new InvalidManifestException(source, why);
    }
}
