package dev.consort.plot;

import java.util.Optional;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

import dev.consort.web.ApiProblem;

/**
 * PNG or SVG, as a client asks for a figure: {@code ?format=png|svg} wins, then the {@code Accept} header
 * (PNG when it names both). Every endpoint that serves a figure chooses and answers through here.
 */
public enum ImageFormat {

    PNG(MediaType.IMAGE_PNG),
    SVG(MediaType.parseMediaType("image/svg+xml"));

    public static final String SVG_VALUE = "image/svg+xml";

    private final MediaType mediaType;

    ImageFormat(MediaType mediaType) {
        this.mediaType = mediaType;
    }

    /**
     * The format asked for; empty when neither the parameter nor the header asks for an image (the caller
     * then answers JSON, or its default).
     *
     * @throws ApiProblem 400 naming {@code format} when it is neither png nor svg
     */
    public static Optional<ImageFormat> requested(String format, String accept) {
        if (format != null) {
            return switch (format.toLowerCase()) {
                case "png" -> Optional.of(PNG);
                case "svg" -> Optional.of(SVG);
                default -> throw ApiProblem.badRequest("format", "must be png or svg, got '" + format + "'");
            };
        }
        if (accept != null && accept.contains(MediaType.IMAGE_PNG_VALUE)) {
            return Optional.of(PNG);
        }
        if (accept != null && accept.contains(SVG_VALUE)) {
            return Optional.of(SVG);
        }
        return Optional.empty();
    }

    /** The figure in this format, with its content type. */
    public ResponseEntity<?> response(Figure figure) {
        return ResponseEntity.ok().contentType(mediaType).body(this == PNG ? figure.png() : figure.svg());
    }
}
