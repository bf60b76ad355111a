package dev.consort.plot;

import java.awt.Color;
import java.awt.image.BufferedImage;

/**
 * A chart laid out once and drawn on either canvas: a PNG through Java2D or an SVG document, so both
 * downloads show the same picture. Subclasses lay out in their constructor and draw in {@link #draw}.
 */
public abstract class Figure {

    public static final Color BACKGROUND = Color.WHITE;
    static final Color INK = new Color(0x22, 0x22, 0x22);

    public abstract int width();

    public abstract int height();

    /** Draws the whole figure; called once per rendering. */
    abstract void draw(Canvas canvas);

    public BufferedImage image() {
        RasterCanvas canvas = new RasterCanvas(width(), height(), BACKGROUND);
        draw(canvas);
        return canvas.image();
    }

    public byte[] png() {
        return RasterCanvas.png(image());
    }

    public String svg() {
        SvgCanvas canvas = new SvgCanvas(width(), height(), BACKGROUND);
        draw(canvas);
        return canvas.document();
    }
}
