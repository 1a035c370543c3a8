import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildXmpPacket,
  COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
  readDigitalSourceType,
  readXmpFields,
  TRAINED_ALGORITHMIC_MEDIA,
} from '../../src/image/xmp.ts';

test('the packet carries the IPTC source type, prompt and creator tool, and reads back', () => {
  const description = 'a "quoted" <tag> & ampersand\r\nsecond line ❄';
  const packet = buildXmpPacket({ digitalSourceType: TRAINED_ALGORITHMIC_MEDIA, description, creatorTool: 'gesso' });
  assert.ok(packet.includes('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia'));
  assert.ok(packet.startsWith('<?xpacket begin="\ufeff"'));
  assert.ok(!packet.includes('<tag>'), 'markup in the prompt must be escaped');
  assert.deepEqual(readXmpFields(packet), { digitalSourceType: TRAINED_ALGORITHMIC_MEDIA, description, creatorTool: 'gesso' });
  const edited = buildXmpPacket({ digitalSourceType: COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA });
  assert.equal(readDigitalSourceType(edited), COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA);
});

test('reads DigitalSourceType from other writers: attribute form, resource form, any prefix', () => {
  const ns = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"';
  const attribute = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF ${ns}><rdf:Description rdf:about=""
    xmlns:iptcExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    iptcExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"/></rdf:RDF></x:xmpmeta>`;
  assert.equal(readDigitalSourceType(attribute), 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture');
  const resource = `<rdf:RDF ${ns}><rdf:Description rdf:about="" xmlns:Iptc4xmpExt='http://iptc.org/std/Iptc4xmpExt/2008-02-29/'>
    <Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"/>
    </rdf:Description></rdf:RDF>`;
  assert.equal(readDigitalSourceType(resource), 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic');
  // The name alone is not enough: the prefix must be bound to the IPTC Extension namespace.
  const wrongNamespace = `<rdf:Description xmlns:Iptc4xmpExt="http://example.com/other/" Iptc4xmpExt:DigitalSourceType="nope"/>`;
  assert.equal(readDigitalSourceType(wrongNamespace), undefined);
  assert.equal(readDigitalSourceType('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'), undefined);
});
