using System.Text;

namespace Keel.Cli.Output;

/// <summary>A plain-text table: columns padded to their widest cell, the last column left ragged.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Expected {headers.Length} cells, got {cells.Length}.", nameof(cells));
        }
        _rows.Add(cells);
    }

    public void Write(TextWriter writer, string indent = "", bool header = true)
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows.Prepend(headers))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (var row in header ? _rows.Prepend(headers) : _rows)
        {
            var line = new StringBuilder(indent);
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }
            writer.WriteLine(line.ToString().TrimEnd());
        }
    }
}
