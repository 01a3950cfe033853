using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Actors.Hvctl.Output;

/// <summary>
/// Writes a null as <c>null</c>, where YamlDotNet writes nothing ("host: "): the same value to a YAML reader, but
/// one a person can see, and no line ends in a blank.
/// </summary>
internal sealed class NullAsNullEmitter(IEventEmitter next) : ChainedEventEmitter(next)
{
    public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
    {
        if (eventInfo.Source.Value is null)
        {
            eventInfo.RenderedValue = "null";
            eventInfo.Style = ScalarStyle.Plain;
        }

        base.Emit(eventInfo, emitter);
    }
}
