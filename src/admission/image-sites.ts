/**
 * Every place in a PodSpec that names an image the kubelet will pull:
 * the three container lists (as the in-tree AlwaysPullImages plugin visits
 * them) and image volumes (`spec.volumes[].image`, KEP-4639), which the in-tree
 * plugin does not cover.
 */
import { PullguardError } from '../errors.js'
import { pointer } from '../text/json-pointer.js'
import { CONTAINER_LISTS, isObject, listOf, type ImageList, type JsonObject } from './pod.js'
import { truncate } from '../text/truncate.js'

export interface ImageSite {
  readonly list: ImageList
  readonly index: number
  /** Field path as the API server writes it: `spec.containers[0]`, `spec.volumes[2].image`. */
  readonly field: string
  /** Container or volume name, '' when missing. */
  readonly name: string
  /** The raw `image` / `reference` value, unchecked. */
  readonly image: unknown
  /** The object holding the pull policy (the container, or the volume's `image`). */
  readonly holder: JsonObject
  /** JSON Pointer of `holder`. */
  readonly holderPointer: string
  readonly policyField: 'imagePullPolicy' | 'pullPolicy'
  readonly policy: unknown
}

export function imageSites (spec: JsonObject): ImageSite[] {
  const sites: ImageSite[] = []
  for (const list of CONTAINER_LISTS) {
    listOf(spec, list).forEach((container, index) => {
      sites.push({
        list,
        index,
        field: `spec.${list}[${index}]`,
        name: typeof container.name === 'string' ? container.name : '',
        image: container.image,
        holder: container,
        holderPointer: pointer('spec', list, index),
        policyField: 'imagePullPolicy',
        policy: container.imagePullPolicy,
      })
    })
  }
  listOf(spec, 'volumes').forEach((volume, index) => {
    const source = volume.image
    if (source === undefined || source === null) return
    if (!isObject(source)) throw new PullguardError('PG_NOT_A_POD', `request.object is not a Pod: spec.volumes[${index}].image is not an object`)
    sites.push({
      list: 'volumes',
      index,
      field: `spec.volumes[${index}].image`,
      name: typeof volume.name === 'string' ? volume.name : '',
      image: source.reference,
      holder: source,
      holderPointer: pointer('spec', 'volumes', index, 'image'),
      policyField: 'pullPolicy',
      policy: source.pullPolicy,
    })
  })
  return sites
}

/** `spec.containers[0].imagePullPolicy`: the in-tree plugin's field path for a site's policy. */
export function policyFieldPath (site: ImageSite): string {
  return `${site.field}.${site.policyField}`
}

/** `spec.containers[0] ("app")`: how warnings and denials name a site. */
export function describeSite (site: ImageSite): string {
  const name = truncate(site.name, 40)
  return name === '' ? site.field : `${site.field} (${name})`
}
