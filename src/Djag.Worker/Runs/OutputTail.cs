using System.Text;

namespace Djag.Worker.Runs;

/// <summary>
/// A run's output as a thread-safe writer that keeps only the last <see cref="Capacity"/> characters:
/// a chatty task costs no memory, and its report keeps what a person looks at first, the end.
/// </summary>
internal sealed class OutputTail : TextWriter
{
    public const int Capacity = 4096;
    private const string CutMark = "…";

    private readonly StringBuilder _buffer = new();
    private readonly Lock _lock = new();
    private bool _cut;

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lock)
        {
            _buffer.Append(value);
            Trim();
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            _buffer.Append(buffer, index, count);
            Trim();
        }
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (_lock)
        {
            _buffer.Append(buffer);
            Trim();
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            _buffer.Append(value);
            Trim();
        }
    }

    public override Task WriteAsync(char value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(char[] buffer, int index, int count)
    {
        Write(buffer, index, count);
        return Task.CompletedTask;
    }

    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
    {
        WriteLine(buffer.Span);
        return Task.CompletedTask;
    }

    public override Task FlushAsync() => Task.CompletedTask;

    /// <summary>The last <see cref="Capacity"/> characters, starting with "…" when earlier output was dropped.</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            var keep = Math.Min(_buffer.Length, _cut || _buffer.Length > Capacity ? Capacity - CutMark.Length : Capacity);
            var text = _buffer.ToString(_buffer.Length - keep, keep);
            return keep < _buffer.Length || _cut ? CutMark + text : text;
        }
    }

    /// <summary>Drops the front in chunks, not on every write.</summary>
    private void Trim()
    {
        if (_buffer.Length > 2 * Capacity)
        {
            _buffer.Remove(0, _buffer.Length - Capacity);
            _cut = true;
        }
    }
}
