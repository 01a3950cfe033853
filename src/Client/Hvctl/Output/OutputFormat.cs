namespace Actors.Hvctl.Output;

/// <summary>What a read command prints: the table a person reads, or a document a program reads (docs/hvctl.md).</summary>
internal enum OutputFormat
{
    Table,
    Json,
    Yaml,
}
