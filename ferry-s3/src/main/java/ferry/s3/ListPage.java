package ferry.s3;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * One page of a ListObjectsV2 answer, whichever client fetched it.
 *
 * @param objects the objects of the page, in key order
 * @param prefixes the common prefixes (sub-folders, each ending in the delimiter), in key order
 * @param nextToken the continuation token of the next page, or null after the last
 */
record ListPage(List<Entry> objects, List<String> prefixes, String nextToken) {
    static final XMLInputFactory XML = XMLInputFactory.newFactory();

    static {
        XML.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        XML.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    }

    /** An object as a listing describes it; the ETag without its quotes. */
    record Entry(String key, long size, Instant lastModified, String etag) {
    }

    static ListPage of(ListObjectsV2Response response) {
        List<Entry> objects = new ArrayList<>(response.contents().size());
        for (S3Object object : response.contents()) {
            objects.add(new Entry(object.key(), object.size() == null ? 0 : object.size(),
                    object.lastModified() == null ? Instant.EPOCH : object.lastModified(),
                    S3Store.etag(object.eTag())));
        }
        List<String> prefixes = new ArrayList<>(response.commonPrefixes().size());
        for (CommonPrefix common : response.commonPrefixes()) {
            prefixes.add(common.prefix());
        }
        String token = Boolean.TRUE.equals(response.isTruncated()) ? response.nextContinuationToken() : null;
        return new ListPage(objects, prefixes, token(token, response.encodingType() == EncodingType.URL));
    }

    /**
     * Reads a ListBucketResult (the XML of ListObjectsV2). Keys and prefixes are URL-decoded when the answer says
     * {@code <EncodingType>url</EncodingType>}, as Ferry asks it to.
     */
    static ListPage parse(InputStream body) throws IOException {
        List<Entry> objects = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        String token = null;
        boolean truncated = false;
        boolean urlEncoded = false;
        try {
            XMLStreamReader xml = XML.createXMLStreamReader(body);
            String key = null;
            long size = 0;
            Instant lastModified = Instant.EPOCH;
            String etag = "";
            boolean inContents = false;
            boolean inCommonPrefixes = false;
            while (xml.hasNext()) {
                int event = xml.next();
                if (event == XMLStreamReader.END_ELEMENT) {
                    switch (xml.getLocalName()) {
                        case "Contents" -> {
                            if (key == null) {
                                throw new IOException("a listed object without a <Key>");
                            }
                            objects.add(new Entry(key, size, lastModified, etag));
                            inContents = false;
                        }
                        case "CommonPrefixes" -> inCommonPrefixes = false;
                        default -> { }
                    }
                    continue;
                }
                if (event != XMLStreamReader.START_ELEMENT) {
                    continue;
                }
                switch (xml.getLocalName()) {
                    case "Contents" -> {
                        inContents = true;
                        key = null;
                        size = 0;
                        lastModified = Instant.EPOCH;
                        etag = "";
                    }
                    case "CommonPrefixes" -> inCommonPrefixes = true;
                    case "Key" -> key = inContents ? xml.getElementText() : key;
                    case "Size" -> size = inContents ? Long.parseLong(xml.getElementText().strip()) : size;
                    case "LastModified" -> lastModified = inContents ? Instant.parse(xml.getElementText().strip())
                            : lastModified;
                    case "ETag" -> etag = inContents ? S3Store.etag(xml.getElementText()) : etag;
                    case "Prefix" -> {
                        String prefix = xml.getElementText();
                        if (inCommonPrefixes) {
                            prefixes.add(prefix);
                        }
                    }
                    case "IsTruncated" -> truncated = Boolean.parseBoolean(xml.getElementText().strip());
                    case "NextContinuationToken" -> token = xml.getElementText();
                    case "EncodingType" -> urlEncoded = "url".equalsIgnoreCase(xml.getElementText().strip());
                    default -> { }
                }
            }
        } catch (XMLStreamException | NumberFormatException | DateTimeParseException e) {
            throw new IOException("unreadable listing from the S3 endpoint: " + e.getMessage(), e);
        }
        if (urlEncoded) {
            objects.replaceAll(o -> new Entry(decode(o.key()), o.size(), o.lastModified(), o.etag()));
            prefixes.replaceAll(ListPage::decode);
        }
        if (truncated && (token == null || token.isEmpty())) {
            throw new IOException("the S3 endpoint said a listing goes on but gave no continuation token");
        }
        return new ListPage(objects, prefixes, truncated ? token(token, urlEncoded) : null);
    }

    /**
     * The continuation token to send back. AWS leaves it as it is in an answer with URL-encoded keys (its tokens
     * hold no '%'), but s3proxy URL-encodes it too and reads it back verbatim: a page boundary on a key with a
     * space skipped the rest of the folder, one with a '+' repeated a page for ever. Only %XX escapes are undone.
     */
    static String token(String token, boolean urlEncoded) {
        if (!urlEncoded || token == null || token.indexOf('%') < 0) {
            return token;
        }
        try {
            return URLDecoder.decode(token.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return token; // not an escape after all
        }
    }

    private static String decode(String value) {
        return URLDecoder.decode(value, StandardCharsets.UTF_8);
    }
}
