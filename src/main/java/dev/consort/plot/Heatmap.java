package dev.consort.plot;

import java.awt.Color;
import java.awt.Rectangle;
import java.util.List;
import java.util.Locale;

/**
 * Matrices of values in [0, 1] (CKA similarities, router weights) as heatmaps side by side, one panel per
 * matrix, on a shared viridis scale with a labelled colour bar. Row 0 sits at the bottom of each panel, so
 * for layer × layer matrices the band of similar neighbouring layers runs from bottom-left to top-right.
 * Undefined (NaN) entries are grey; values outside [0, 1] take the colour of the nearer end.
 */
public final class Heatmap extends Figure {

    /** One matrix ({@code values[row][column]}, rectangular) with its panel title and axis names. */
    public record Panel(String title, double[][] values, String rowAxis, String columnAxis) {
        public Panel {
            if (values.length == 0 || values[0].length == 0) {
                throw new IllegalArgumentException("panel " + title + " has no values");
            }
            for (double[] row : values) {
                if (row.length != values[0].length) {
                    throw new IllegalArgumentException("panel " + title + " is not rectangular");
                }
            }
        }

        int rows() {
            return values.length;
        }

        int columns() {
            return values[0].length;
        }
    }

    public static final Color UNDEFINED = new Color(0xbd, 0xbd, 0xbd);
    private static final double TITLE_SIZE = 16;
    private static final double PANEL_TITLE_SIZE = 13;
    private static final double LABEL_SIZE = 12;
    private static final double TICK_SIZE = 11;
    private static final int MARGIN = 16;
    private static final int PANEL_GAP = 28;
    private static final int BAR_WIDTH = 18;
    private static final int TICK_LENGTH = 4;

    private final String title;
    private final List<Panel> panels;
    private final String scaleLabel;
    private final int cell;
    private final int[] panelX;
    private final int bottom;
    private final int maxPanelHeight;
    private final int barX;
    private final int width;
    private final int height;

    /** A heatmap of the panels, left to right, under {@code title}; the colour bar is labelled {@code scaleLabel}. */
    public Heatmap(String title, List<Panel> panels, String scaleLabel) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("a heatmap needs at least one matrix");
        }
        this.title = title;
        this.panels = List.copyOf(panels);
        this.scaleLabel = scaleLabel;
        int largest = panels.stream().mapToInt(p -> Math.max(p.rows(), p.columns())).max().orElse(1);
        // panels about 300 px across, whole pixels per cell so that cells have crisp edges
        cell = Math.max(3, Math.min(40, 300 / largest));
        maxPanelHeight = panels.stream().mapToInt(p -> p.rows() * cell).max().orElse(0);
        int top = MARGIN + (int) TITLE_SIZE + 14 + (int) PANEL_TITLE_SIZE + 10;
        bottom = top + maxPanelHeight;

        panelX = new int[panels.size()];
        int x = MARGIN;
        for (int i = 0; i < panels.size(); i++) {
            Panel panel = panels.get(i);
            double tickLabels = 0;
            for (int row = 0; row < panel.rows(); row++) {
                tickLabels = Math.max(tickLabels, Canvas.textWidth(Integer.toString(row), TICK_SIZE, false));
            }
            x += (int) Math.ceil(LABEL_SIZE + 8 + tickLabels + TICK_LENGTH + 3);
            panelX[i] = x;
            int panelWidth = panel.columns() * cell;
            double titleWidth = Canvas.textWidth(panel.title(), PANEL_TITLE_SIZE, true);
            x += Math.max(panelWidth, (int) Math.ceil(titleWidth)) + PANEL_GAP;
        }
        barX = x;
        int contentWidth = barX + BAR_WIDTH + TICK_LENGTH + 4 + (int) Math.ceil(Canvas.textWidth("0.0", TICK_SIZE, false))
                + 8 + (int) LABEL_SIZE + MARGIN;
        width = Math.max(contentWidth, (int) Math.ceil(Canvas.textWidth(title, TITLE_SIZE, true)) + 2 * MARGIN);
        height = bottom + TICK_LENGTH + (int) TICK_SIZE + 8 + (int) LABEL_SIZE + 10 + MARGIN;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int height() {
        return height;
    }

    /** Where the cell of ({@code row}, {@code column}) of panel {@code panel} is drawn; row 0 is the bottom row. */
    public Rectangle cellBounds(int panel, int row, int column) {
        Panel matrix = panels.get(panel);
        if (row < 0 || row >= matrix.rows() || column < 0 || column >= matrix.columns()) {
            throw new IndexOutOfBoundsException("no cell (" + row + ", " + column + ") in panel " + panel);
        }
        return new Rectangle(panelX[panel] + column * cell, bottom - (row + 1) * cell, cell, cell);
    }

    @Override
    void draw(Canvas canvas) {
        canvas.text(title, width / 2.0, MARGIN + TITLE_SIZE, TITLE_SIZE, true, Canvas.Anchor.MIDDLE, 0, INK);
        for (int i = 0; i < panels.size(); i++) {
            drawPanel(canvas, i);
        }
        drawColourBar(canvas);
    }

    private void drawPanel(Canvas canvas, int index) {
        Panel panel = panels.get(index);
        int left = panelX[index];
        int panelWidth = panel.columns() * cell;
        int panelHeight = panel.rows() * cell;
        int top = bottom - panelHeight;
        for (int row = 0; row < panel.rows(); row++) {
            for (int column = 0; column < panel.columns(); column++) {
                double value = panel.values()[row][column];
                Rectangle bounds = cellBounds(index, row, column);
                canvas.fillRect(bounds.x, bounds.y, bounds.width, bounds.height,
                        Double.isNaN(value) ? UNDEFINED : ColorMap.VIRIDIS.at(value));
            }
        }
        canvas.strokeRect(left - 0.5, top - 0.5, panelWidth + 1, panelHeight + 1, INK, 1);
        canvas.text(panel.title(), left + panelWidth / 2.0, top - 10, PANEL_TITLE_SIZE, true, Canvas.Anchor.MIDDLE,
                0, INK);

        int rowEvery = labelEvery(panel.rows());
        double widestRowLabel = 0;
        for (int row = 0; row < panel.rows(); row += rowEvery) {
            double y = bottom - (row + 0.5) * cell;
            canvas.line(left - 0.5, y, left - 0.5 - TICK_LENGTH, y, INK, 1, false);
            canvas.text(Integer.toString(row), left - TICK_LENGTH - 3, y + TICK_SIZE * 0.35, TICK_SIZE, false,
                    Canvas.Anchor.END, 0, INK);
            widestRowLabel = Math.max(widestRowLabel, Canvas.textWidth(Integer.toString(row), TICK_SIZE, false));
        }
        int columnEvery = labelEvery(panel.columns());
        for (int column = 0; column < panel.columns(); column += columnEvery) {
            double x = left + (column + 0.5) * cell;
            canvas.line(x, bottom + 0.5, x, bottom + 0.5 + TICK_LENGTH, INK, 1, false);
            canvas.text(Integer.toString(column), x, bottom + TICK_LENGTH + TICK_SIZE + 1, TICK_SIZE, false,
                    Canvas.Anchor.MIDDLE, 0, INK);
        }
        canvas.text(panel.columnAxis(), left + panelWidth / 2.0, bottom + TICK_LENGTH + TICK_SIZE + 8 + LABEL_SIZE,
                LABEL_SIZE, false, Canvas.Anchor.MIDDLE, 0, INK);
        double axisX = left - TICK_LENGTH - 3 - widestRowLabel - 6;
        canvas.text(panel.rowAxis(), axisX, top + panelHeight / 2.0, LABEL_SIZE, false, Canvas.Anchor.MIDDLE, -90, INK);
    }

    /** Label every layer up to 12, then every 2nd, 5th, ... so that labels never crowd. */
    private static int labelEvery(int count) {
        for (int every : new int[] {1, 2, 5, 10, 20, 50, 100}) {
            if (count <= 12 * every) {
                return every;
            }
        }
        return Math.max(1, count / 12);
    }

    private void drawColourBar(Canvas canvas) {
        int top = bottom - maxPanelHeight;
        int steps = Math.max(1, maxPanelHeight);
        for (int i = 0; i < steps; i++) {
            double value = (i + 0.5) / steps;
            canvas.fillRect(barX, bottom - i - 1, BAR_WIDTH, 1, ColorMap.VIRIDIS.at(value));
        }
        canvas.strokeRect(barX - 0.5, top - 0.5, BAR_WIDTH + 1, maxPanelHeight + 1, INK, 1);
        double labelWidth = 0;
        for (int tick = 0; tick <= 5; tick++) {
            double value = tick / 5.0;
            double y = bottom - value * maxPanelHeight;
            String label = String.format(Locale.ROOT, "%.1f", value);
            canvas.line(barX + BAR_WIDTH + 0.5, y, barX + BAR_WIDTH + 0.5 + TICK_LENGTH, y, INK, 1, false);
            canvas.text(label, barX + BAR_WIDTH + TICK_LENGTH + 3, y + TICK_SIZE * 0.35, TICK_SIZE, false,
                    Canvas.Anchor.START, 0, INK);
            labelWidth = Math.max(labelWidth, Canvas.textWidth(label, TICK_SIZE, false));
        }
        canvas.text(scaleLabel, barX + BAR_WIDTH + TICK_LENGTH + 3 + labelWidth + 6 + LABEL_SIZE * 0.8,
                top + maxPanelHeight / 2.0, LABEL_SIZE, false, Canvas.Anchor.MIDDLE, 90, INK);
    }
}
