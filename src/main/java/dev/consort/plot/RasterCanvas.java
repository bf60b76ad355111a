package dev.consort.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/**
 * A {@link Canvas} drawing into an RGB image with Java2D. Off-screen images need no display: the JDK runs
 * headless when {@code DISPLAY} is unset, and Spring Boot sets {@code java.awt.headless=true}.
 */
final class RasterCanvas implements Canvas {

    private final BufferedImage image;
    private final Graphics2D graphics;

    RasterCanvas(int width, int height, Color background) {
        image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        graphics = image.createGraphics();
        graphics.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        graphics.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        graphics.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        graphics.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        graphics.setColor(background);
        graphics.fillRect(0, 0, width, height);
    }

    /** The finished image; the canvas must not be drawn on afterwards. */
    BufferedImage image() {
        graphics.dispose();
        return image;
    }

    static byte[] png(BufferedImage image) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding failed", e);
        }
        return bytes.toByteArray();
    }

    @Override
    public void fillRect(double x, double y, double width, double height, Color fill) {
        graphics.setColor(fill);
        graphics.fill(new Rectangle2D.Double(x, y, width, height));
    }

    @Override
    public void strokeRect(double x, double y, double width, double height, Color stroke, double lineWidth) {
        graphics.setColor(stroke);
        graphics.setStroke(new BasicStroke((float) lineWidth));
        graphics.draw(new Rectangle2D.Double(x, y, width, height));
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color stroke, double lineWidth, boolean dashed) {
        graphics.setColor(stroke);
        graphics.setStroke(dashed
                ? new BasicStroke((float) lineWidth, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                : new BasicStroke((float) lineWidth));
        graphics.draw(new Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(double[] xs, double[] ys, Color stroke, double lineWidth) {
        if (xs.length == 0) {
            return;
        }
        Path2D.Double path = new Path2D.Double();
        path.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            path.lineTo(xs[i], ys[i]);
        }
        graphics.setColor(stroke);
        graphics.setStroke(new BasicStroke((float) lineWidth, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        graphics.draw(path);
    }

    @Override
    public void fillCircle(double centreX, double centreY, double radius, Color fill) {
        graphics.setColor(fill);
        graphics.fill(new Ellipse2D.Double(centreX - radius, centreY - radius, 2 * radius, 2 * radius));
    }

    @Override
    public void text(String text, double x, double y, double size, boolean bold, Anchor anchor, double degrees,
                     Color fill) {
        double width = Canvas.textWidth(text, size, bold);
        double shift = switch (anchor) {
            case START -> 0;
            case MIDDLE -> -width / 2;
            case END -> -width;
        };
        AffineTransform saved = graphics.getTransform();
        graphics.translate(x, y);
        graphics.rotate(Math.toRadians(degrees));
        graphics.setFont(new Font(FONT_FAMILY, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size));
        graphics.setColor(fill);
        graphics.drawString(text, (float) shift, 0f);
        graphics.setTransform(saved);
    }
}
